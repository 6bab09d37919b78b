"""Tributi from the chat: what the citizen owes, a pagoPA notice with its QR code, reminders."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import MENU, PERSON, api, channel_user, entity, kind_when_unavailable
from backend_client import (
    AlreadyPaid,
    NotFound,
    PaymentNotice,
    TaxPosition,
)
from sportello.formatting import euro, grouped, long_date

MY_TAXES = {"title": "💶 I miei tributi", "payload": "/tax_check"}
_NOTICE_DIGITS = re.compile(r"(?<!\d)(\d[\d ]{16,24}\d)(?!\d)")
_MAX_PAY_BUTTONS = 6


def notice_number_in(text: str) -> str | None:
    """An 18-digit codice avviso typed with or without the spaces of the paper notice."""
    for match in _NOTICE_DIGITS.finditer(text or ""):
        digits = match.group(1).replace(" ", "")
        if len(digits) == 18:
            return digits
    return None


def position_line(position: TaxPosition) -> str:
    """One line of the summary: what, how much, by when; an overdue one is marked."""
    if position.status == "pagato":
        return f"✅ {position.description}: {euro(position.amount_cents)}, pagato"
    if position.status == "scaduto":
        return f"🔴 {position.description}: {euro(position.amount_cents)}, scaduto il {long_date(position.due_date)}"
    return f"🟡 {position.description}: {euro(position.amount_cents)}, scade {long_date(position.due_date)}"


def pay_button(position: TaxPosition) -> dict[str, str]:
    return {
        "title": f"💳 Paga {position.description} ({euro(position.amount_cents)})",
        "payload": f'/tax_pay{{"tax_position": "{position.id}"}}',
    }


def summary(positions: list[TaxPosition], tax_type: str | None) -> tuple[str, list[dict[str, str]]]:
    """The short summary of what is owed, overdue first, with a button to pay each."""
    chosen = [p for p in positions if tax_type is None or p.tax_type == tax_type]
    unpaid = sorted((p for p in chosen if p.status != "pagato"), key=lambda p: (p.status != "scaduto", p.due_date))
    paid = [p for p in chosen if p.status == "pagato"]
    what = tax_type or "tributi"
    if not chosen:
        return f"Non risultano {what} a tuo nome.", [MENU, PERSON]
    if not unpaid:
        text = f"Sei in regola ✅: non hai {what} da pagare."
        if paid:
            text += "\nGià pagati:\n" + "\n".join(position_line(p) for p in paid)
        return text, [MENU, PERSON]
    total = sum(p.amount_cents for p in unpaid)
    lines = [f"Da pagare: {euro(total)} in tutto."]
    lines += [position_line(p) for p in unpaid]
    if paid:
        lines.append(f"Già pagati: {len(paid)}.")
    buttons = [pay_button(p) for p in unpaid if p.payable][:_MAX_PAY_BUTTONS]
    return "\n".join(lines), [*buttons, MENU, PERSON]


def notice_caption(notice: PaymentNotice) -> str:
    """What the citizen needs to pay: the QR code carries the same data."""
    return (
        f"Avviso pagoPA: {notice.description}\n"
        f"Importo: {euro(notice.amount_cents)}\n"
        f"Scadenza: {long_date(notice.due_date)}\n"
        f"Ente: {notice.payee_name} (C.F. {notice.payee_fiscal_code})\n"
        f"Codice avviso: {grouped(notice.notice_number)}\n\n"
        "Inquadra il QR con l'app IO o con l'app della tua banca, oppure vai in un punto pagoPA "
        f"(tabaccheria, ufficio postale). Puoi pagare anche online: {notice.checkout_url}\n"
        "Quando il pagamento arriva, te lo scrivo qui con la ricevuta."
    )


class ActionTaxSummary(Action):
    """Tell a linked citizen what they owe and by when, with a button to pay each."""

    def name(self) -> str:
        return "action_tax_summary"

    @kind_when_unavailable(not_linked="utter_taxes_unlinked")
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        positions = await (await api()).taxes.mine(channel_user(tracker))
        tax_type = entity(tracker, "tax_type")
        text, buttons = summary(positions, str(tax_type) if tax_type else None)
        dispatcher.utter_message(text=text, buttons=buttons)
        return []


class ActionTaxPay(Action):
    """Issue the pagoPA notice of what the citizen chose and send its QR code."""

    def name(self) -> str:
        return "action_tax_pay"

    @kind_when_unavailable(not_linked="utter_taxes_unlinked")
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        user = channel_user(tracker)
        try:
            client = await api()
            position_id = str(entity(tracker, "tax_position") or "")
            # The 18 digits as typed, whole: an extractor may return only part of them.
            typed_notice = notice_number_in(str(tracker.latest_message.get("text") or "")) or entity(
                tracker, "notice_number"
            )
            if position_id:
                if not position_id.isdigit():
                    raise NotFound("not a position id")
                notice = await client.taxes.issue_notice(user, int(position_id))
            elif typed_notice:
                notice = await client.taxes.notice(user, str(typed_notice).replace(" ", ""))
                if notice.paid:
                    raise AlreadyPaid("paid")
            else:
                tax_type = entity(tracker, "tax_type")
                positions = await client.taxes.mine(user)
                payable = [
                    p for p in positions if p.payable and (not tax_type or p.tax_type == tax_type)
                ]
                if len(payable) != 1:
                    self._choose(dispatcher, positions, payable, str(tax_type) if tax_type else None)
                    return []
                notice = await client.taxes.issue_notice(user, payable[0].id)
        except AlreadyPaid:
            dispatcher.utter_message(
                text="Questo risulta già pagato ✅. Non devi pagarlo di nuovo.",
                buttons=[MY_TAXES, MENU, PERSON],
            )
            return []
        except NotFound:
            dispatcher.utter_message(
                text="Non trovo questo avviso tra i tuoi pagamenti. Controlla il numero, oppure guarda i tuoi tributi.",
                buttons=[MY_TAXES, MENU, PERSON],
            )
            return []
        # Telegram opens only https links from a button; the caption carries the link anyway.
        online = (
            [{"title": "💳 Paga online", "payload": notice.checkout_url}]
            if notice.checkout_url.startswith("https://")
            else []
        )
        dispatcher.utter_message(
            json_message={
                "qr": notice.qr_payload,
                "caption": notice_caption(notice),
                "buttons": [*online, MY_TAXES, MENU, PERSON],
            }
        )
        return []

    @staticmethod
    def _choose(
        dispatcher: CollectingDispatcher,
        positions: list[TaxPosition],
        payable: list[TaxPosition],
        tax_type: str | None,
    ) -> None:
        if not payable:
            what = tax_type or "tributi"
            dispatcher.utter_message(
                text=f"Non hai {what} da pagare ✅.", buttons=[MY_TAXES, MENU, PERSON]
            )
            return
        dispatcher.utter_message(
            text="Cosa vuoi pagare?",
            buttons=[*(pay_button(p) for p in payable[:_MAX_PAY_BUTTONS]), MENU, PERSON],
        )


class ActionReminderSettings(Action):
    """Turn the reminders of due dates on or off."""

    def name(self) -> str:
        return "action_reminder_settings"

    @kind_when_unavailable()
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        user = channel_user(tracker)
        choice = entity(tracker, "reminder_choice")
        text = str(tracker.latest_message.get("text") or "").lower()
        if choice not in ("on", "off") and tracker.latest_message.get("intent", {}).get("name") == "reminder_settings":
            if any(word in text for word in ("non ", "basta", "smetti", "disattiva", "togli", "stop")):
                choice = "off"
            elif any(word in text for word in ("riattiva", "attiva", "voglio ricevere", "avvisami")):
                choice = "on"
        client = await api()
        if choice in ("on", "off"):
            await client.identity.set_preferences(user, tax_reminders=choice == "on")
            enabled = choice == "on"
            said = (
                "Fatto: ti scriverò qualche giorno prima di ogni scadenza."
                if enabled
                else "Fatto: non ti manderò più promemoria delle scadenze. Puoi riattivarli quando vuoi."
            )
        else:
            enabled = (await client.identity.me(user)).tax_reminders
            said = (
                "I promemoria delle scadenze sono attivi: ti scrivo qualche giorno prima."
                if enabled
                else "I promemoria delle scadenze sono spenti."
            )
        toggle = (
            {"title": "🔕 Spegni i promemoria", "payload": '/reminder_settings{"reminder_choice": "off"}'}
            if enabled
            else {"title": "🔔 Attiva i promemoria", "payload": '/reminder_settings{"reminder_choice": "on"}'}
        )
        dispatcher.utter_message(text=said, buttons=[toggle, MENU, PERSON])
        return []
