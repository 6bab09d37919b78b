"""Taxes and pagoPA: positions, notices, the reminder job."""

from __future__ import annotations

from datetime import date

from backend_client.models.taxes import PaymentNotice, TaxPosition
from backend_client.transport import (
    Transport,
    parse,
    parse_list,
    segment,
)


class TaxesAPI:
    """`client.taxes`: taxes and pagoPA: positions, notices, the reminder job."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def mine(self, channel_user: str) -> list[TaxPosition]:
        """The linked citizen's taxes and other dues, soonest due first; NotLinked."""
        body = await self._transport.request("GET", "/v1/taxes", channel_user=channel_user)
        return parse_list(body, "taxes", TaxPosition)

    async def issue_notice(self, channel_user: str, position_id: int) -> PaymentNotice:
        """The pagoPA notice of one's own position, issued now or earlier (always the same).

        AlreadyPaid if the position is paid; NotFound if it is not the citizen's; NotLinked.
        """
        # Issuing is idempotent (one notice per position), so a lost answer may be retried.
        body = await self._transport.request(
            "POST",
            f"/v1/taxes/{int(position_id)}/notice",
            channel_user=channel_user,
            retry_on_connection_errors=True,
        )
        return parse(body, PaymentNotice)

    async def notice(self, channel_user: str, notice_number: str) -> PaymentNotice:
        """One's own notice by its codice avviso (spaces allowed, as printed on paper).

        NotFound if no notice of the citizen has this number; AlreadyPaid; NotLinked.
        """
        body = await self._transport.request(
            "GET",
            f"/v1/notices/{segment(notice_number.strip())}",
            channel_user=channel_user,
        )
        return parse(body, PaymentNotice)

    async def run_reminders(self, today: date | None = None) -> int:
        """Queue the payment reminders due as of `today` (default: the comune's today).

        Returns how many were queued; each position is reminded once, however often this runs.
        """
        payload = {"today": today.isoformat()} if today is not None else {}
        return await self._transport.run_job("/v1/jobs/payment-reminders", payload, "queued")
