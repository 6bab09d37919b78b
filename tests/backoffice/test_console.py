"""The office's console at /staff, through HTTP as a browser sends it: a login per person with
a role, lockout, CSRF, the audit log, and each action on pratiche, bookings, avvisi and people,
checked by what the citizen's feed then carries. On SQLite and PostgreSQL, migrated to head."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from backoffice.app import create_app
from backoffice.appkeys import CLOCK
from backoffice.console.domain import LOCK_MINUTES, MAX_FAILED_LOGINS
from backoffice.db.seed import DEMO_CITIZENS
from sportello.clock import ROME, Clock
from sportello.settings import Settings
from tests.backoffice_http import AUTH, Client, chat, console_login, csrf_of, link

# A Thursday morning in Rome: the desk is open and the seeded pratiche are recent.
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ROME)
MARIO, GIULIA, ANNA = (citizen.fiscal_code for citizen in DEMO_CITIZENS)
YEAR = datetime.now(ROME).year
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
RECEIVED = f"{YEAR}/000122"  # stato di famiglia, presentata (seeded)
IN_REVIEW = f"{YEAR}/000123"  # segnalazione, in istruttoria (seeded)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest_asyncio.fixture
async def server(
    database_url: str, seeded_engine: AsyncEngine, clock: Clock, make_settings: Callable[..., Settings]
) -> AsyncIterator[TestServer]:
    app = create_app(make_settings(database_url).model_copy(update={"appointment_reminder_interval_seconds": 0}))
    app[CLOCK] = clock
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    yield test_server
    await test_server.close()


@pytest_asyncio.fixture
async def http(server: TestServer) -> AsyncIterator[Client]:
    async with TestClient(server) as client:
        yield client


@pytest_asyncio.fixture
async def second(server: TestServer) -> AsyncIterator[Client]:
    """Another browser, with its own cookies."""
    async with TestClient(server) as client:
        yield client


async def events(http: Client, kind: str) -> list[dict[str, Any]]:
    response = await http.get("/v1/events", params={"limit": 500}, headers=AUTH)
    return [e for e in (await response.json())["events"] if e["type"] == kind]


async def audit_lines(http: Client) -> list[str]:
    """The audit log as an admin reads it, one 'who · action · target' per row, newest first."""
    page = await (await http.get("/staff/registro")).text()
    rows = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", page)
    return [f"{who} · {action} · {target}" for who, action, target in rows]


async def post(http: Client, path: str, csrf: str, **form: Any) -> tuple[int, str]:
    response = await http.post(path, data={"csrf": csrf, **form}, allow_redirects=False)
    return response.status, response.headers.get("Location", "")


# --- login, sessions, lockout ----------------------------------------------------------------


async def test_a_page_without_a_session_sends_to_the_login_and_back_after_it(http: Client) -> None:
    anonymous = await http.get(f"/staff/pratiche/{RECEIVED}", allow_redirects=False)
    assert anonymous.status == 303
    assert anonymous.headers["Location"].startswith("/staff/login?dopo=/staff/pratiche/")
    # The service key is not a login.
    with_key = await http.get("/staff/pratiche", headers=AUTH, allow_redirects=False)
    assert with_key.status == 303

    login = await http.get(anonymous.headers["Location"])
    page = await login.text()
    assert "Accesso del personale" in page and 'lang="it"' in page
    response = await http.post(
        "/staff/login",
        data={
            "utente": "Operatore",  # user names are not case-sensitive
            "password": "operatore-demo-2026",
            "csrf": csrf_of(page),
            "dopo": f"/staff/pratiche/{RECEIVED}",
        },
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == f"/staff/pratiche/{RECEIVED}"
    cookie = response.cookies["sportello_staff"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/staff"
    opened = await http.get(f"/staff/pratiche/{RECEIVED}")
    assert opened.status == 200 and f"Pratica {RECEIVED}" in await opened.text()
    assert opened.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in opened.headers["Content-Security-Policy"]


async def test_login_goes_back_only_to_a_console_page(http: Client) -> None:
    for target in ("https://evil.example/", "//evil.example/staff", "/v1/events"):
        page = await (await http.get("/staff/login")).text()
        response = await http.post(
            "/staff/login",
            data={"utente": "operatore", "password": "operatore-demo-2026", "csrf": csrf_of(page), "dopo": target},
            allow_redirects=False,
        )
        assert response.headers["Location"] == "/staff", target


async def test_a_login_form_without_its_token_is_refused(http: Client) -> None:
    response = await http.post(
        "/staff/login", data={"utente": "operatore", "password": "operatore-demo-2026"}, allow_redirects=False
    )
    assert response.status == 303 and "errore=" in response.headers["Location"]
    assert "sportello_staff" not in response.cookies


async def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(http: Client, clock: Clock) -> None:
    page = await (await http.get("/staff/login")).text()
    form = {"utente": "operatore", "csrf": csrf_of(page), "dopo": "/staff"}
    answers = []
    for n in range(MAX_FAILED_LOGINS):
        response = await http.post("/staff/login", data={**form, "password": f"tentativo-{n}"}, allow_redirects=False)
        answers.append((response.status, await response.text()))
    right = await http.post("/staff/login", data={**form, "password": "operatore-demo-2026"}, allow_redirects=False)

    assert [status for status, _ in answers[:-1]] == [401] * (MAX_FAILED_LOGINS - 1)
    assert "Nome utente o password sbagliati." in answers[0][1]
    assert answers[-1][0] == right.status == 429
    said = (await right.text()).replace("&#39;", "'")
    assert "l'account è bloccato per 15 minuti" in said
    assert int(right.headers["Retry-After"]) == LOCK_MINUTES * 60
    # An unknown name is answered like a wrong password: which one was wrong is never said.
    unknown = await http.post("/staff/login", data={**form, "utente": "nessuno", "password": "x"}, allow_redirects=False)
    assert unknown.status == 401 and "Nome utente o password sbagliati." in await unknown.text()

    clock.advance(timedelta(minutes=LOCK_MINUTES, seconds=1))
    after = await http.post("/staff/login", data={**form, "password": "operatore-demo-2026"}, allow_redirects=False)
    assert after.status == 303


async def test_logout_ends_the_session_on_the_server(http: Client) -> None:
    csrf = await console_login(http, "operatore")
    token = http.session.cookie_jar.filter_cookies(http.make_url("/staff"))["sportello_staff"].value

    assert (await post(http, "/staff/logout", csrf))[0] == 303
    # The old cookie, sent again by hand, opens nothing: the session is gone from the database.
    replay = await http.get("/staff/pratiche", cookies={"sportello_staff": token}, allow_redirects=False)
    assert replay.status == 303 and replay.headers["Location"].startswith("/staff/login")


async def test_an_idle_session_expires(http: Client, clock: Clock) -> None:
    await console_login(http, "operatore")
    clock.advance(timedelta(minutes=61))
    response = await http.get("/staff/pratiche", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/staff/login")


# --- roles and CSRF --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        ("operatore", ["/staff/pratiche", "/staff/sportello", "/staff/notifiche", "/staff/tributi", "/staff/conversazioni"], ["/staff/utenti", "/staff/registro", "/staff/avvisi"]),
        ("responsabile", ["/staff/pratiche", "/staff/registro", "/staff/conversazioni"], ["/staff/utenti", "/staff/avvisi"]),
        ("pubblicatore", ["/staff/avvisi"], ["/staff/pratiche", "/staff/sportello", "/staff/tributi", "/staff/utenti", "/staff/conversazioni"]),
        ("admin", ["/staff/utenti", "/staff/registro", "/staff/avvisi", "/staff/pratiche", "/staff/conversazioni"], []),
    ],
)
async def test_each_role_reaches_its_pages_and_no_other(
    http: Client, role: str, allowed: list[str], refused: list[str]
) -> None:
    await console_login(http, role)
    for path in allowed:
        assert (await http.get(path)).status == 200, path
    for path in refused:
        response = await http.get(path)
        assert response.status == 403, path
        assert "Il tuo ruolo non lo permette" in await response.text()
    home = await http.get("/staff", allow_redirects=False)
    assert home.headers["Location"] == ("/staff/avvisi" if role == "pubblicatore" else "/staff/pratiche")


async def test_a_clerk_cannot_create_accounts_or_assign_to_others(http: Client, second: Client) -> None:
    csrf = await console_login(http, "operatore")
    status, _ = await post(
        http, "/staff/utenti", csrf, utente="intruso", nome="Intruso", ruolo="admin", password="x" * 20
    )
    assert status == 403
    status, _ = await post(http, f"/staff/pratiche/{RECEIVED}/assegna", csrf, a="2")
    assert status == 403
    await console_login(second, "admin")
    assert "intruso" not in await (await second.get("/staff/utenti")).text(), "no account was made"


async def test_a_form_without_the_sessions_token_changes_nothing(http: Client, second: Client) -> None:
    await console_login(http, "operatore")
    other = await console_login(second, "responsabile")
    forged = await http.post(f"/staff/pratiche/{RECEIVED}/stato", data={"stato": "respinta"}, allow_redirects=False)
    foreign = await http.post(
        f"/staff/pratiche/{RECEIVED}/stato", data={"stato": "respinta", "csrf": other}, allow_redirects=False
    )
    assert forged.status == foreign.status == 403
    assert "Modulo scaduto" in await forged.text()
    assert await events(http, "practice_status_changed") == []


# --- pratiche --------------------------------------------------------------------------------


async def test_the_queue_filters_and_the_protocol_search_opens_the_pratica(http: Client) -> None:
    await console_login(http, "operatore")
    queue = await (await http.get("/staff/pratiche")).text()
    assert RECEIVED in queue and IN_REVIEW in queue
    assert f"{YEAR}/000118" not in queue, "an accepted pratica is not in the work queue"
    everything = await (await http.get("/staff/pratiche", params={"stato": "tutte"})).text()
    assert f"{YEAR}/000118" in everything
    reports = await (await http.get("/staff/pratiche", params={"tipo": "segnalazione"})).text()
    assert IN_REVIEW in reports and RECEIVED not in reports
    found = await http.get("/staff/pratiche", params={"protocollo": f" {RECEIVED} "}, allow_redirects=False)
    assert found.status == 303 and found.headers["Location"] == f"/staff/pratiche/{RECEIVED}"
    bad = await http.get("/staff/pratiche", params={"protocollo": "abc"}, allow_redirects=False)
    assert "errore=" in bad.headers["Location"]
    # Overdue against the legal deadline (30 days): none yet, all open ones 40 days on.
    assert "scaduto" not in queue


async def test_overdue_pratiche_are_marked_against_the_types_legal_deadline(http: Client, clock: Clock) -> None:
    clock.freeze(datetime.now(ROME) + timedelta(days=40))
    await console_login(http, "operatore")
    late = await (await http.get("/staff/pratiche", params={"scadute": "1"})).text()
    # stato di famiglia (30 days) and segnalazione (30) are late; a SCIA has 60 days.
    assert RECEIVED in late and IN_REVIEW in late
    assert f"{YEAR}/000120" not in late


async def test_taking_in_charge_asking_documents_and_accepting_tell_the_citizen(http: Client) -> None:
    csrf = await console_login(http, "operatore")
    assert (await post(http, f"/staff/pratiche/{RECEIVED}/prendi", csrf))[0] == 303
    page = await (await http.get(f"/staff/pratiche/{RECEIVED}")).text()
    assert "<dt>In carico a</dt><dd>Marco Bianchi</dd>" in page and "<dt>Stato</dt><dd>in esame</dd>" in page

    status, location = await post(http, f"/staff/pratiche/{RECEIVED}/stato", csrf, stato="integrazione_richiesta")
    assert status == 303 and "errore=" in location, "asking for documents needs a note"
    status, location = await post(
        http, f"/staff/pratiche/{RECEIVED}/stato", csrf, stato="integrazione_richiesta", nota="Serve la delega firmata"
    )
    assert "messaggio=" in location
    status, location = await post(http, f"/staff/pratiche/{RECEIVED}/stato", csrf, stato="accolta", nota="Tutto ok")
    assert "errore=" in location, "from integrazione richiesta the citizen's documents come first"

    changes = [e["payload"] for e in await events(http, "practice_status_changed")]
    assert [(c["from_status"], c["to_status"]) for c in changes] == [
        ("presentata", "in_istruttoria"),
        ("in_istruttoria", "integrazione_richiesta"),
    ]
    assert changes[1]["note"] == "Serve la delega firmata"
    # The citizen reads it in their own pratica, with who in the office moved it nowhere.
    await link(http, 91, ANNA)
    mine = await (await http.get(f"/v1/practices/{RECEIVED}", headers=chat(91))).json()
    assert mine["status"] == "integrazione_richiesta" and mine["requested_documents"] == "Serve la delega firmata"
    assert "Marco" not in str(mine)


async def test_a_note_stays_in_the_office_and_everything_is_in_the_audit_log(http: Client, second: Client) -> None:
    csrf = await console_login(http, "responsabile")
    status, _ = await post(http, f"/staff/pratiche/{IN_REVIEW}/nota", csrf, testo="<b>Chiamare</b> il vigile")
    assert status == 303
    page = await (await http.get(f"/staff/pratiche/{IN_REVIEW}")).text()
    assert "&lt;b&gt;Chiamare&lt;/b&gt; il vigile" in page and "Laura Conti" in page
    # Assign to a colleague (a responsabile may).
    people = re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', page)
    marco = next(value for value, name in people if name == "Marco Bianchi")
    assert (await post(http, f"/staff/pratiche/{IN_REVIEW}/assegna", csrf, a=marco))[0] == 303
    await console_login(second, "operatore")
    mine = await (await second.get("/staff/pratiche", params={"mie": "1"})).text()
    assert IN_REVIEW in mine and RECEIVED not in mine

    await link(http, 92, MARIO)
    citizen_view = await (await http.get(f"/v1/practices/{IN_REVIEW}", headers=chat(92))).json()
    assert "vigile" not in str(citizen_view)
    lines = await audit_lines(http)
    assert f"responsabile · pratica assegnata · {IN_REVIEW}" in lines
    assert f"responsabile · nota aggiunta · {IN_REVIEW}" in lines
    assert "responsabile · login · " in lines and "operatore · login · " in lines


async def test_an_attachment_opens_inline_when_pdf_and_never_runs_as_a_page(http: Client) -> None:
    await link(http, 93, GIULIA)
    form = aiohttp.FormData()
    form.add_field("file", PDF, filename="delega <x>.pdf", content_type="application/pdf")
    upload = await http.post("/v1/uploads", data=form, headers=chat(93))
    assert upload.status == 201, await upload.text()
    upload_id = (await upload.json())["upload_id"]
    attached = await http.post(
        f"/v1/practices/{YEAR}/000120/attachments",
        json={"upload_id": upload_id},
        headers=chat(93),
    )
    assert attached.status in (200, 201), await attached.text()
    await console_login(http, "operatore")
    page = await (await http.get(f"/staff/pratiche/{YEAR}/000120")).text()
    stored = (await upload.json())["filename"]
    assert "<x>" not in stored, "the name is cleaned when the file arrives"
    assert f">{stored}</a>" in page and "si apre nel browser" in page
    opened = await http.get(f"/staff/pratiche/{YEAR}/000120/allegati/{upload_id}")
    assert opened.status == 200 and (await opened.read()).startswith(b"%PDF")
    assert opened.headers["Content-Disposition"].startswith("inline;")
    assert opened.headers["Content-Security-Policy"].startswith("sandbox")
    elsewhere = await http.get(f"/staff/pratiche/{YEAR}/000118/allegati/{upload_id}")
    assert elsewhere.status == 404, "an attachment opens only under its own pratica"


# --- sportello -------------------------------------------------------------------------------


async def test_the_desk_checks_in_and_completes_a_booking_found_by_its_qr(http: Client) -> None:
    await link(http, 94, MARIO)
    booking = await http.post(
        "/v1/appointments",
        json={"service": "anagrafe", "starts_at": "2026-11-26T10:30"},
        headers={**chat(94), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert booking.status == 201, await booking.text()
    ticket = await booking.json()
    csrf = await console_login(http, "operatore")

    day = await (await http.get("/staff/sportello")).text()
    assert "giovedì 26 novembre" in day.lower() and ticket["code"] in day and "Mario" in day
    found = await http.get("/staff/sportello/cerca", params={"codice": ticket["qr_payload"]}, allow_redirects=False)
    assert found.status == 303 and f"codice={ticket['code']}" in found.headers["Location"]
    for status in ("presente", "completato"):
        code, location = await post(
            http, f"/staff/sportello/{ticket['code']}/stato", csrf, stato=status, giorno="2026-11-26"
        )
        assert code == 303 and "messaggio=" in location, location
    again, location = await post(
        http, f"/staff/sportello/{ticket['code']}/stato", csrf, stato="non_presentato", giorno="2026-11-26"
    )
    assert "errore=" in location, "a citizen served cannot turn absent"

    changes = [e["payload"] for e in await events(http, "appointment_status_changed")]
    assert [(c["from_status"], c["to_status"]) for c in changes] == [("prenotato", "presente"), ("presente", "completato")]
    assert "✅ Completato" in await (await http.get("/staff/sportello")).text()
    assert f"operatore · appuntamento stato · {ticket['code']}" in await audit_lines_as_admin(http)
    missing = await http.get("/staff/sportello/cerca", params={"codice": "CE-ZZZZ"}, allow_redirects=False)
    assert "errore=" in missing.headers["Location"]


async def audit_lines_as_admin(http: Client) -> list[str]:
    await console_login(http, "admin")
    return await audit_lines(http)


# --- avvisi and people -----------------------------------------------------------------------


async def test_the_publisher_sends_an_avviso_once_even_if_the_form_is_sent_twice(http: Client, clock: Clock) -> None:
    subscribe = await http.put(
        "/v1/me/announcements", json={"topic": "allerte", "subscribed": True, "zone": "cerenova"}, headers=chat(95)
    )
    assert subscribe.status == 200, await subscribe.text()
    csrf = await console_login(http, "pubblicatore")
    page = await (await http.get("/staff/avvisi")).text()
    key = re.search(r'name="chiave" value="([^"]+)"', page)
    assert key is not None and "Cerenova" in page
    form = {"tema": "allerte", "zone": "cerenova", "testo": "Allerta arancione: restate a casa.", "chiave": key.group(1)}
    first = await post(http, "/staff/avvisi", csrf, **form)
    twice = await post(http, "/staff/avvisi", csrf, **form)
    assert first == twice and "messaggio=" in first[1]

    sent = await events(http, "announcement")
    assert len(sent) == 1 and sent[0]["payload"]["text"] == "Allerta arancione: restate a casa."
    listed = await (await http.get("/staff/avvisi")).text()
    assert "Allerta arancione" in listed and "Cerenova" in listed
    assert "<td>in corso</td>" in listed
    claimed = await http.post("/v1/deliveries/claim", json={"channel": "telegram", "limit": 10}, headers=AUTH)
    [delivery] = [d for d in (await claimed.json())["deliveries"] if d["recipient"] == "telegram:95"]
    clock.advance(timedelta(seconds=7))
    assert (await http.post(f"/v1/deliveries/{delivery['id']}/sent", headers=AUTH)).status == 200
    done = await (await http.get("/staff/avvisi")).text()
    assert "<td>7 s</td>" in done, "the office sees how long the sending took"
    empty = await post(http, "/staff/avvisi", csrf, **{**form, "testo": "  ", "chiave": uuid.uuid4().hex})
    assert "errore=" in empty[1]


async def test_the_admin_adds_and_disables_an_account_whose_sessions_end_at_once(http: Client, second: Client) -> None:
    csrf = await console_login(http, "admin")
    weak = await post(http, "/staff/utenti", csrf, utente="g.verdi", nome="Giorgio Verdi", ruolo="operatore", password="corta")
    assert "errore=" in weak[1]
    made = await post(
        http, "/staff/utenti", csrf, utente="g.verdi", nome="Giorgio Verdi", ruolo="operatore", password="una-frase-lunga-2026"
    )
    assert "messaggio=" in made[1]
    await console_login(second, "g.verdi", "una-frase-lunga-2026")
    assert (await second.get("/staff/pratiche")).status == 200

    page = await (await http.get("/staff/utenti")).text()
    found = re.search(r'action="/staff/utenti/(\d+)/disattiva"[^>]*>\s*<input[^>]*>\s*<button[^>]*>Disattiva g\.verdi', page)
    assert found is not None
    assert (await post(http, f"/staff/utenti/{found.group(1)}/disattiva", csrf))[0] == 303
    ended = await second.get("/staff/pratiche", allow_redirects=False)
    assert ended.status == 303 and ended.headers["Location"].startswith("/staff/login")
    lines = await audit_lines(http)
    assert "admin · utente creato · g.verdi" in lines and "admin · utente disattivato · g.verdi" in lines


# --- tributi ---------------------------------------------------------------------------------


async def test_the_office_sees_a_citizens_taxes_and_payments_and_the_look_up_is_audited(
    http: Client, second: Client
) -> None:
    from tests.backoffice.test_backoffice_payments import checkout_path, notice, taxes

    await link(http, 96, ANNA)
    tari = next(item for item in await taxes(http, 96) if item["tax_type"] == "TARI")
    issued = await notice(http, 96, tari["id"])
    assert (await http.post(checkout_path(issued))).status == 200
    await console_login(http, "operatore")

    latest = await (await http.get("/staff/tributi")).text()
    assert "Ultimi pagamenti ricevuti" in latest and "98,75" in latest
    bad = await http.get("/staff/tributi", params={"cf": "RSSMRA50C12C552X"}, allow_redirects=False)
    assert bad.status == 303 and "errore=" in bad.headers["Location"]
    shown = await (await http.get("/staff/tributi", params={"cf": ANNA.lower()})).text()
    assert "Anna" in shown and "Posizioni" in shown and "Avvisi emessi" in shown
    assert tari["description"] in shown and "pagato" in shown
    receipt = re.search(r'href="(/staff/tributi/ricevute/\d+)"', shown)
    assert receipt is not None
    pdf = await http.get(receipt.group(1))
    assert pdf.status == 200 and pdf.content_type == "application/pdf" and (await pdf.read()).startswith(b"%PDF")

    await console_login(second, "pubblicatore")
    assert (await second.get("/staff/tributi", params={"cf": ANNA})).status == 403
    lines = await audit_lines_as_admin(http)
    looked = [line for line in lines if "tributi consultati" in line]
    assert len(looked) == 1 and looked[0].startswith("operatore · tributi consultati · cittadino ")
    assert ANNA not in " ".join(lines), "the audit log names the citizen by number, never the codice fiscale"


# --- cruscotto -------------------------------------------------------------------------------


async def test_the_dashboard_shows_the_figures_with_charts_and_exports_them(http: Client, second: Client) -> None:
    await console_login(http, "responsabile")
    page = await http.get("/staff/cruscotto", params={"dal": "2026-11-01", "al": "2026-11-26"})
    text = (await page.text()).replace("&#39;", "'")
    assert page.status == 200 and "Cruscotto dell'assistente" in text
    assert "<svg" in text and "Conversazioni al giorno" in text
    assert "Pratiche dalla chat" in text and "Risolte dall'assistente" in text
    csv = await http.get("/staff/cruscotto/export.csv", params={"dal": "2026-11-01", "al": "2026-11-26"})
    body = await csv.read()
    assert csv.status == 200 and body.startswith("\ufeff".encode()) and b";" in body.splitlines()[0]
    assert "cruscotto_2026-11-01_2026-11-26.csv" in csv.headers["Content-Disposition"]
    open_data = await (await http.get("/staff/cruscotto/dati-aperti.json")).json()
    assert "misunderstood_phrases" not in open_data
    wrong = await http.get("/staff/cruscotto", params={"dal": "2026-11-26", "al": "2026-11-01"}, allow_redirects=False)
    assert wrong.status == 303 and "errore=" in wrong.headers["Location"]

    await console_login(second, "operatore")
    assert (await second.get("/staff/cruscotto")).status == 403
