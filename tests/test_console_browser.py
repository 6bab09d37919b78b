"""The office's console in a real browser (Debian's Chromium through Playwright), against the
running stack: each role logs in, walks its pages and does its actions; the citizen's chat
(the local Bot API server) shows what the office did; axe-core finds no serious issue on any
page; screenshots go to results/screens/ for a person to look at."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from localtelegram import TelegramGroup, TelegramUser
from tests.stack import ROOT, Service, Stack, backoffice_api
from tests.test_chat_e2e import answer, answers
from tests.test_handoff_e2e import clerk, in_topic, newest_topic, staff  # noqa: F401 - fixtures
from tests.test_practices_e2e import ANNA, link, said, submit_for

SCREENS = ROOT / "results" / "screens"
AXE = Axe()
SERIOUS = {"serious", "critical"}


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Debian's chromium is missing: run `make system`"
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="it-IT", viewport={"width": 1024, "height": 768})  # a tablet
    opened = context.new_page()
    yield opened
    context.close()


def accessible(page: Page, name: str) -> None:
    """axe-core on the page as it is now: no serious or critical violation; a screenshot."""
    results = AXE.run(page)
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in SERIOUS
    ]
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
    assert serious == [], f"{name}: {serious}"


def log_in(page: Page, stack: Stack, username: str) -> None:
    page.goto(stack.env["BACKOFFICE_URL"] + "/staff")
    expect(page.get_by_role("heading", name="Accesso del personale")).to_be_visible()
    page.get_by_label("Nome utente").fill(username)
    page.get_by_label("Password").fill(username + "-demo-2026")
    page.get_by_role("button", name="Accedi").click()
    expect(page.get_by_role("button", name="Esci")).to_be_visible()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Esci").click()
    expect(page.get_by_text("Sei uscito. A presto!")).to_be_visible()


def test_a_clerk_works_a_pratica_and_the_citizen_is_told_in_the_chat(
    page: Page, citizen: TelegramUser, stack: Stack, bot: Service
) -> None:
    link(citizen, stack, ANNA)
    protocol = submit_for(stack, citizen)

    page.goto(stack.env["BACKOFFICE_URL"] + "/staff/login")
    accessible(page, "01-login")
    # A wrong password says so, kindly, and lets nothing in.
    page.get_by_label("Nome utente").fill("operatore")
    page.get_by_label("Password").fill("sbagliata")
    page.get_by_role("button", name="Accedi").click()
    expect(page.get_by_role("alert")).to_have_text("Nome utente o password sbagliati.")

    log_in(page, stack, "operatore")
    expect(page.get_by_role("heading", name="Pratiche")).to_be_visible()
    accessible(page, "02-pratiche")
    # The keyboard reaches the skip link first.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Vai al contenuto")).to_be_focused()

    page.get_by_label("Protocollo").fill(protocol)
    page.get_by_role("button", name="Filtra").click()
    expect(page.get_by_role("heading", name=f"Pratica {protocol}")).to_be_visible()
    accessible(page, "03-pratica")

    page.get_by_role("button", name="Prendi in carico").click()
    expect(page.get_by_role("status")).to_contain_text("Hai preso in carico la pratica")
    told = answer(citizen)
    assert protocol in told.content and "in esame" in told.content

    page.get_by_label("Nuovo stato").select_option("integrazione_richiesta")
    page.get_by_label("Nota per il cittadino").fill("Manca la planimetria dell'area")
    page.get_by_role("button", name="Applica").click()
    expect(page.get_by_role("status")).to_contain_text("Il cittadino riceve un messaggio")
    assert "Manca la planimetria dell'area" in answer(citizen).content

    page.get_by_label("Nuova nota").fill("Ho chiamato la signora, porta i documenti lunedì")
    page.get_by_role("button", name="Salva la nota").click()
    expect(page.get_by_text("Ho chiamato la signora")).to_be_visible()
    citizen.expect_silence(within=3)  # a note stays in the office

    page.get_by_role("link", name="Sportello").click()
    expect(page.get_by_role("heading", name="Appuntamenti di")).to_be_visible()
    accessible(page, "04-sportello")
    page.get_by_role("link", name="Notifiche").click()
    accessible(page, "05-notifiche")
    page.get_by_role("link", name="Tributi").click()
    page.get_by_label("Codice fiscale del cittadino").fill(ANNA)
    page.get_by_role("button", name="Cerca").click()
    expect(page.get_by_role("heading", name="Posizioni")).to_be_visible()
    accessible(page, "05-tributi")
    # A clerk does not reach the accounts page.
    page.goto(stack.env["BACKOFFICE_URL"] + "/staff/utenti")
    expect(page.get_by_role("heading", name="Non puoi aprire questa pagina")).to_be_visible()
    accessible(page, "06-vietato")
    log_out(page)

    log_in(page, stack, "admin")
    page.get_by_role("link", name="Registro").click()
    accessible(page, "07-registro")
    log = page.get_by_role("table").inner_text()
    assert "operatore\tpratica assegnata" in log and "operatore\tpratica stato" in log and "nota aggiunta" in log
    page.get_by_role("link", name="Utenti").click()
    accessible(page, "08-utenti")
    page.get_by_role("link", name="Cruscotto").click()
    expect(page.get_by_role("heading", name="Cruscotto dell'assistente")).to_be_visible()
    assert page.locator("figure.chart svg").count() >= 2
    accessible(page, "10-cruscotto")
    log_out(page)


def test_the_publisher_sends_an_avviso_that_only_the_subscriber_of_that_zone_receives(
    page: Page, citizen: TelegramUser, stack: Stack, bot: Service
) -> None:
    citizen.send("/start")  # a bot can write only to who opened a chat with it
    answers(citizen)
    with backoffice_api(stack, f"telegram:{citizen.user_id}") as api:
        api.put("/v1/me/announcements", json={"topic": "allerte", "subscribed": True, "zone": "cerenova"}).raise_for_status()

    log_in(page, stack, "pubblicatore")
    expect(page.get_by_role("heading", name="Avvisi ai cittadini")).to_be_visible()
    accessible(page, "09-avvisi")
    page.get_by_label("Tema").select_option("allerte")
    page.get_by_label("Cerenova").check()
    page.get_by_label("Testo, come lo leggeranno i cittadini").fill("Allerta meteo arancione fino a domani sera.")
    page.get_by_role("button", name="Invia").click()
    expect(page.get_by_role("status")).to_contain_text("in invio ai cittadini iscritti")

    received = said(answers(citizen, 1, timeout=40))
    assert "Allerta meteo arancione fino a domani sera." in received
    page.reload()
    expect(page.get_by_role("table")).to_contain_text("Allerta meteo arancione")
    # The publisher has no pratiche.
    response = httpx.get(stack.env["BACKOFFICE_URL"] + "/staff/pratiche", follow_redirects=False)
    assert response.status_code == 303
    page.goto(stack.env["BACKOFFICE_URL"] + "/staff/pratiche")
    expect(page.get_by_role("heading", name="Non puoi aprire questa pagina")).to_be_visible()



def test_a_clerk_reads_in_conversazioni_the_chat_a_citizen_handed_to_a_person(
    page: Page, citizen: TelegramUser, clerk: TelegramUser, staff: TelegramGroup, stack: Stack, bot: Service,  # noqa: F811
) -> None:
    citizen.send("ho un problema con la tari")
    answers(citizen)
    citizen.press("🙋 Parla con una persona")
    answers(citizen)
    thread, name = newest_topic(staff)
    number = re.match(r"#(\d+)", name)
    assert number is not None, name
    ticket = number.group(1)
    in_topic(staff, thread)
    clerk.in_chat(staff, thread).press("✋ Prendo io")
    answers(citizen)
    in_topic(staff, thread)
    citizen.send("quanto devo pagare quest'anno?")
    in_topic(staff, thread)

    log_in(page, stack, "operatore")
    page.get_by_role("link", name="Conversazioni").click()
    expect(page.get_by_role("heading", name="Conversazioni con una persona")).to_be_visible()
    row = page.locator("tr", has=page.get_by_role("link", name=f"#{ticket}", exact=True))
    expect(row).to_contain_text("In corso")
    expect(row).to_contain_text("Lucia")
    accessible(page, "11-conversazioni")
    page.get_by_role("link", name=f"#{ticket}", exact=True).click()
    expect(page.get_by_role("heading", name=f"Conversazione #{ticket}")).to_be_visible()
    expect(page.locator("ol.transcript")).to_contain_text("quanto devo pagare quest'anno?")
    accessible(page, "12-conversazione")
    log_out(page)

    # The responsabile gives a pratica to a colleague and reads in the Registro who read the chat.
    log_in(page, stack, "responsabile")
    expect(page.get_by_role("heading", name="Pratiche")).to_be_visible()
    page.locator("table a[href^='/staff/pratiche/']").first.click()
    page.get_by_label("Assegna a un collega").select_option(label="Marco Bianchi")
    page.get_by_role("button", name="Assegna", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Pratica assegnata a Marco Bianchi")
    accessible(page, "13-assegnata")
    page.get_by_role("link", name="Registro").click()
    log = page.get_by_role("table").inner_text()
    assert f"operatore\tconversazione letta\tconversazione {ticket}" in log
    assert "responsabile\tpratica assegnata" in log
    log_out(page)
