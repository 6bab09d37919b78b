"""Storage shared by every area: the engine and migrations, the tables, the unit of work, the seed."""

from backoffice.db.engine import (
    alembic_config,
    create_engine,
    create_sessionmaker,
    downgrade,
    ensure_sqlite_directory,
    migrate,
    ping,
)
from backoffice.db.uow import UnitOfWork

__all__ = [
    "UnitOfWork",
    "alembic_config",
    "create_engine",
    "create_sessionmaker",
    "downgrade",
    "ensure_sqlite_directory",
    "migrate",
    "ping",
]
