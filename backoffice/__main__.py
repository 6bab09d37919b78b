"""Command line of the back office: `python -m backoffice [serve|migrate]`."""

from __future__ import annotations

import argparse
import asyncio
import logging

from aiohttp import web

from backoffice.app import AccessLogger, create_app
from backoffice.db import (
    create_engine,
    create_sessionmaker,
    ensure_sqlite_directory,
    migrate,
)
from backoffice.seed import seed_demo_data
from sportello.settings import Settings, get_settings

log = logging.getLogger("backoffice")


async def prepare_database(settings: Settings) -> None:
    """Migrate the schema to head and, if asked and the database is empty, seed demo data."""
    ensure_sqlite_directory(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        log.info("database schema at head")
        if settings.seed_demo_data:
            await seed_demo_data(create_sessionmaker(engine))
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    """Run the command given on the command line."""
    parser = argparse.ArgumentParser(prog="python -m backoffice", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=("serve", "migrate"),
        help="serve: migrate, seed and serve the API (default); migrate: migrate and seed only",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = get_settings()
    asyncio.run(prepare_database(settings))
    if args.command == "serve":
        web.run_app(
            create_app(settings),
            host=settings.backoffice_host,
            port=settings.backoffice_port,
            access_log_class=AccessLogger,
            print=lambda message: log.info("%s", message.strip()),
        )


if __name__ == "__main__":
    main()
