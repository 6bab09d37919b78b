"""Walk a citizen's main tasks by button presses only and count the taps: `make taps`.

The real stack (back office, action server, Rasa, the bot) runs as in the end-to-end tests,
with the local Bot API server as Telegram. For each task a new citizen opens the menu and taps,
never types: the big buttons under the chat or the buttons inside the last answer, whichever
shows the label. The harness may link the chat first (the portal's part, not counted). A task
whose next button is missing fails loudly, naming the step.

A task is data: its taps and the words its last answer must contain. Adding one is a few lines
in TASKS; tests/test_simple_mode_e2e.py walks the same list.
"""

from __future__ import annotations

import itertools
import shutil
import sys
import warnings
from dataclasses import dataclass, field

from localtelegram import BotApiDriver, BotApiTimeout, BotMessage, TelegramUser
from localtelegram.runner import BotApiServerThread
from tests.stack import ROOT, Service, Stack, add_staff_group, mint_link_code, start_bot, start_stack

# A fresh database and the processes' logs of the last run, to read when a task fails.
RUN_DIR = ROOT / "var" / "taps"
MARIO = "RSSMRA50C12C552D"
GIULIA = "BNCGLI85L64C552A"
MENU_BUTTON = "🏠 Menu"
PERSON_BUTTON = "🙋 Parla con una persona"
BACK_TO_ASSISTANT = "↩️ Torna all'assistente"
MAX_TAPS = 5  # the target, after the menu
SAID = ("text", "photo", "document")


@dataclass(frozen=True)
class Task:
    """What a citizen wants, the buttons they tap after the menu, and what they get at the end."""

    name: str
    taps: tuple[str, ...]
    expect: str
    linked_as: str | None = None  # codice fiscale the harness links first (not counted)
    expect_kind: str | None = None  # e.g. "document": the end brings a file
    blocked_by: str | None = None  # a known missing piece, outside the bot, until it is fixed


# A label ending with «…» names a button by its start: days, times and amounts change.
TASKS: tuple[Task, ...] = (
    Task(
        "Seguire una pratica",
        ("🔎 Stato pratica", "🔎 2026/000118…"),
        expect="Pratica 2026/000118",
        linked_as=MARIO,
    ),
    Task("Parlare con una persona", (PERSON_BUTTON,), expect="in coda"),
    Task(
        "Chiedere un certificato",
        ("📄 Nuova pratica", "Certificato di residenza", "👤 Sono io", "in carta libera (esente)",
         "✅ Confermo e invio"),
        expect="Codice di verifica",
        linked_as=MARIO,
        expect_kind="document",
    ),
    Task(
        "Pagare una rata della TARI",
        ("💶 Tributi", "💳 Paga TARI…"),
        expect="Codice avviso",
        linked_as=MARIO,
        expect_kind="photo",
    ),
    Task(
        "Scaricare i miei dati",
        ("🔒 Dati personali", "📥 Scarica"),
        expect="Ecco una copia",
        linked_as=MARIO,
        expect_kind="document",
    ),
    Task(
        "Prenotare la carta d'identità",
        ("📅 Prenota", "🏛️ Carta d'identità…", "📅 …", "🕘 …", "✅ Sì, conferma"),
        expect="Appuntamento prenotato",
        linked_as=GIULIA,
        expect_kind="photo",
    ),
)


class TaskFailed(AssertionError):
    """A task could not be done by taps: the step, why, and the taps made until then."""

    def __init__(self, step: str, reason: str, walked: Walk) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason
        self.walked = walked


class MissingButton(TaskFailed):
    """The button a task needs next is not on the citizen's screen."""


class MissingWayOut(UserWarning):
    """A message with buttons offers no way back to the menu or no way to a person."""


@dataclass(frozen=True)
class Tap:
    label: str
    on_keyboard: bool  # the big buttons under the chat, not a message's buttons


@dataclass
class Walk:
    """What happened when a citizen walked a task."""

    task: Task
    taps: list[Tap] = field(default_factory=list)
    # Messages with inline buttons seen on the way, and the step that brought each one.
    inline_messages: list[tuple[str, BotMessage]] = field(default_factory=list)

    @property
    def path(self) -> str:
        return " → ".join(f"⌨️ {t.label}" if t.on_keyboard else t.label for t in self.taps)

    def missing_way_out(self) -> list[str]:
        """Steps whose buttons lack the menu or a person, in words for a report."""
        missing = []
        for step, message in self.inline_messages:
            if BACK_TO_ASSISTANT in message.buttons:
                continue  # a person is answering: by design the one way back is this button
            lacks = [b for b in (MENU_BUTTON, PERSON_BUTTON) if b not in message.buttons]
            if lacks:
                first_line = message.content.splitlines()[0][:70] if message.content else f"[{message.kind}]"
                missing.append(f"{self.task.name}, {step}: «{first_line}» senza {' e '.join(lacks)}")
        return missing


def replies(citizen: TelegramUser, timeout: float = 40.0) -> list[BotMessage]:
    """What the bot said next (edits and signals left out), once it has been quiet a moment."""
    got: list[BotMessage] = []
    while not got:
        got = [m for m in citizen.wait_replies(1, timeout, settle=0.8) if m.kind in SAID]
    return got


def link(citizen: TelegramUser, stack: Stack, fiscal_code: str) -> None:
    """The portal's part: a one-time code, given to the bot by the t.me deep link."""
    citizen.send(f"/start {mint_link_code(stack, fiscal_code)}")
    said = "\n".join(m.content for m in replies(citizen))
    if "Fatto," not in said:
        raise AssertionError(f"linking {fiscal_code[:3]}… failed: {said}")


def matching(label: str, buttons: list[str]) -> str | None:
    """The button a task's label names: exactly, or by its start when the label ends with «…»
    (a day, a time or an amount that depends on today's date)."""
    if label.endswith("…"):
        return next((b for b in buttons if b.startswith(label[:-1])), None)
    return label if label in buttons else None


def tap(citizen: TelegramUser, label: str, screen: list[BotMessage], step: str, walked: Walk) -> Tap:
    """Tap a label among the last answer's buttons, or else on the big buttons under the chat."""
    for message in reversed(screen):
        found = matching(label, message.buttons) if message.keyboard_type == "inline" else None
        if found is not None:
            citizen.press(found, message_id=message.message_id)
            return Tap(found, on_keyboard=False)
    big = [title for row in citizen.keyboard() for title in row]
    if label in big:
        citizen.press(label, keyboard=True)
        return Tap(label, on_keyboard=True)
    offered = [b for m in screen if m.keyboard_type == "inline" for b in m.buttons]
    last = screen[-1].content.splitlines()[0][:80] if screen and screen[-1].content else "(niente)"
    raise MissingButton(
        step,
        f"manca il pulsante «{label}» (ultima risposta: «{last}»; pulsanti nel messaggio: "
        f"{offered or 'nessuno'}; pulsanti grandi: {big or 'nessuno'})",
        walked,
    )


def walk(citizen: TelegramUser, task: Task, stack: Stack) -> Walk:
    """Open the menu (not counted), then tap every button of the task and check the end."""
    if task.linked_as:
        link(citizen, stack, task.linked_as)
    citizen.send("/menu")
    screen = replies(citizen)
    walked = Walk(task)
    for number, label in enumerate(task.taps, start=1):
        step = f"{task.name}, passo {number}"
        walked.taps.append(tap(citizen, label, screen, step, walked))
        try:
            screen = replies(citizen)
        except BotApiTimeout as error:
            raise TaskFailed(step, f"nessuna risposta a «{label}»", walked) from error
        walked.inline_messages += [(f"passo {number} ({label})", m) for m in screen if m.keyboard_type == "inline"]
    said = "\n".join(m.content for m in screen)
    end = f"{task.name}, fine"
    if task.expect not in said:
        raise TaskFailed(end, f"mi aspettavo «{task.expect}», il bot ha detto «{said[:200]}»", walked)
    if task.expect_kind and not any(m.kind == task.expect_kind for m in screen):
        raise TaskFailed(end, f"mi aspettavo un {task.expect_kind}, arrivati {[m.kind for m in screen]}", walked)
    for line in walked.missing_way_out():
        warnings.warn(line, MissingWayOut, stacklevel=2)
    return walked


def table(rows: list[tuple[str, str, str]]) -> str:
    lines = ["| task | taps | path |", "|---|---|---|"]
    lines += [f"| {name} | {taps} | {path} |" for name, taps, path in rows]
    return "\n".join(lines)


def main() -> int:
    """Start the stack, walk every task, print the table; exit 1 if any task could not be done."""
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    (RUN_DIR / "bot").mkdir(parents=True)
    print("Avvio back office, action server, Rasa e bot (circa un minuto)…", file=sys.stderr)
    stack = start_stack(RUN_DIR)
    telegram = BotApiServerThread(token="434343:TAPS-TOKEN").start()
    bot: Service | None = None
    try:
        add_staff_group(telegram)
        bot = start_bot(stack, telegram, RUN_DIR / "bot")
        failed = walk_all(telegram, stack)
    finally:
        if bot is not None:
            bot.stop()
        telegram.stop()
        stack.stop()
    if failed:
        print(f"\nI log dei processi sono in {RUN_DIR.relative_to(ROOT)}/", file=sys.stderr)
    return failed


def walk_all(telegram: BotApiServerThread, stack: Stack) -> int:
    """Walk every task with a new citizen each; print the table and the messages with no way out."""
    user_ids = itertools.count(810_001)
    rows: list[tuple[str, str, str]] = []
    failures: list[str] = []
    missing: list[str] = []
    with BotApiDriver(telegram.url) as driver:
        for task in TASKS:
            citizen = driver.user(next(user_ids), first_name="Giovanna")
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", MissingWayOut)
                    walked = walk(citizen, task, stack)
            except TaskFailed as failed:
                failures.append(str(failed))
                done = failed.walked.path
                rows.append((task.name, "❌", f"{done + ' → ' if done else ''}❌ {failed.step}: {failed.reason.split(' (')[0]}"))
                continue
            rows.append((task.name, str(len(walked.taps)), walked.path))
            missing += walked.missing_way_out()
    print(table(rows))
    print("\n⌨️ = pulsante grande sotto la chat; gli altri sono pulsanti dentro i messaggi.")
    if missing:
        print("\nMessaggi con pulsanti senza «🏠 Menu» o «🙋 Parla con una persona»:")
        print("\n".join(f"- {line}" for line in missing))
    for failure in failures:
        print(f"\nNON RIUSCITO: {failure}", file=sys.stderr)
    return 1 if failures else 0



if __name__ == "__main__":
    sys.exit(main())
