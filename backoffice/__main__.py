"""Command line of the back office:
`python -m backoffice [serve|migrate|link-code <CF>|staff-user <name> --role R --display-name N]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import sys

from aiohttp import web

from backoffice.app import AccessLogger, create_app
from backoffice.console import accounts as console
from backoffice.console.auth import italian
from backoffice.console.domain import WeakPassword
from backoffice.db import (
    create_engine,
    create_sessionmaker,
    ensure_sqlite_directory,
    migrate,
)
from backoffice.db.models import StaffRole
from backoffice.db.seed import seed_demo_data
from backoffice.db.uow import UnitOfWork
from backoffice.errors import InvalidRequest
from backoffice.identity.domain import CitizenNotFound, format_link_code
from backoffice.identity.services import create_link_code
from sportello.clock import PROCESS_CLOCK
from sportello.dblock import exclusive
from sportello.logs import configure_logging
from sportello.security import exit_if_unsafe
from sportello.settings import Settings, get_settings

log = logging.getLogger("backoffice")


async def prepare_database(settings: Settings) -> None:
    """Migrate the schema to head and, if asked and the database is empty, seed demo data."""
    ensure_sqlite_directory(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        # Replicas start together: one migrates and seeds, the others wait and find it done.
        async with exclusive(engine, "sportello:backoffice-schema"):
            await migrate(engine)
            log.info("database schema at head")
            if settings.seeds_demo_data:
                await seed_demo_data(create_sessionmaker(engine))
    finally:
        await engine.dispose()


async def mint_link_code(settings: Settings, fiscal_code: str) -> str:
    """Mint a link code for a citizen, as the portal would after SPID/CIE (demos, tests)."""
    engine = create_engine(settings.database_url)
    try:
        code = await create_link_code(UnitOfWork(create_sessionmaker(engine)), fiscal_code, PROCESS_CLOCK.now())
    finally:
        await engine.dispose()
    return format_link_code(code.code)


async def add_staff_user(settings: Settings, username: str, display_name: str, role: str, password: str) -> None:
    """A console account, made from the command line (the first admin of a new comune)."""
    engine = create_engine(settings.database_url)
    try:
        await console.add_user(UnitOfWork(create_sessionmaker(engine)), username, display_name, role, password, PROCESS_CLOCK.now())
    finally:
        await engine.dispose()


def _new_password() -> str:
    # From the environment for scripts, else asked twice without echo; never on the command line.
    given = os.environ.get("STAFF_USER_PASSWORD")
    if given:
        return given
    first = getpass.getpass("Password (almeno 12 caratteri): ")
    if getpass.getpass("Ripeti la password: ") != first:
        sys.exit("Le due password non coincidono.")
    return first


def main(argv: list[str] | None = None) -> None:
    """Run the command given on the command line."""
    parser = argparse.ArgumentParser(prog="python -m backoffice", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=("serve", "migrate", "link-code", "staff-user"),
        help="serve: migrate, seed and serve the API (default); migrate: migrate and seed "
        "only; link-code CF: print a one-time link code for the citizen (the portal's part); "
        "staff-user NAME: add a console account (password from STAFF_USER_PASSWORD or asked)",
    )
    parser.add_argument("fiscal_code", nargs="?", help="for link-code: the codice fiscale; for staff-user: the user name")
    parser.add_argument("--role", choices=[role.value for role in StaffRole], default="operatore")
    parser.add_argument("--display-name", help="for staff-user: name and surname as colleagues read it")
    args = parser.parse_args(argv)
    if args.command == "link-code" and not args.fiscal_code:
        parser.error("link-code needs the citizen's codice fiscale")
    if args.command == "staff-user" and not (args.fiscal_code and args.display_name):
        parser.error("staff-user needs the user name and --display-name")
    # link-code prints just the code, so a script or a person can use it as it is.
    # No link token in any line, not even in aiohttp's quote of a malformed request.
    configure_logging(logging.WARNING if args.command == "link-code" else logging.INFO)
    settings = get_settings()
    exit_if_unsafe(settings, "backoffice")
    asyncio.run(prepare_database(settings))
    if args.command == "link-code":
        try:
            print(asyncio.run(mint_link_code(settings, args.fiscal_code)))
        except CitizenNotFound:
            # Logs go to stderr; the codice fiscale itself is not repeated there.
            log.error("no citizen has this codice fiscale")
            sys.exit(1)
        return
    if args.command == "staff-user":
        try:
            asyncio.run(add_staff_user(settings, args.fiscal_code, args.display_name, args.role, _new_password()))
        except (WeakPassword, InvalidRequest) as exc:
            sys.exit(f"Account non creato. {italian(exc)}")
        print(f"Account {args.fiscal_code.strip().lower()} creato ({args.role}).")
        return
    if args.command == "serve":
        with contextlib.suppress(web.GracefulExit):  # SIGTERM/SIGINT: a clean stop
            asyncio.run(serve(settings))


async def serve(settings: Settings) -> None:
    """Serve the API and staff page on the internal listener, the public pages on their own."""
    runner = web.AppRunner(create_app(settings), access_log_class=AccessLogger, handle_signals=True)
    await runner.setup()
    listeners = [(settings.backoffice_host, settings.backoffice_port)]
    if settings.backoffice_public_port and settings.backoffice_public_port != settings.backoffice_port:
        listeners.append((settings.backoffice_public_host, settings.backoffice_public_port))
    try:
        for host, port in listeners:
            await web.TCPSite(runner, host, port).start()
            log.info("listening on %s:%d", host, port)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    main()
