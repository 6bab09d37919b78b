"""Start Rasa with this project's settings: `python -m sportello.run_rasa <rasa arguments>`.

Rasa imports none of our code, so the settings it needs (the action server's URL and token,
read by endpoints.yml from the environment) are put in its environment here, from the same
settings object and `.env` every other process reads; in production it refuses to start on
an unsafe token.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

from sqlalchemy.engine import make_url

from sportello.security import exit_if_unsafe
from sportello.settings import get_settings

RASA = Path(__file__).resolve().parent.parent / ".venv-rasa" / "bin" / "rasa"


def main(argv: list[str] | None = None) -> None:
    """Check the settings, then replace this process with Rasa."""
    settings = get_settings()
    exit_if_unsafe(settings, "rasa")
    env = dict(os.environ)
    env["ACTION_SERVER_URL"] = settings.action_server_url
    env["ACTION_SERVER_TOKEN"] = settings.action_server_token.get_secret_value()
    # endpoints.yml's SQLite tracker store is the file the back office reaches as TRACKER_STORE_URL.
    store = make_url(settings.tracker_store_url)
    if store.get_backend_name() == "sqlite" and store.database:
        Path(store.database).parent.mkdir(parents=True, exist_ok=True)
        env["RASA_TRACKER_DB"] = store.database
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    args = list(argv if argv is not None else sys.argv[1:])
    if args[:1] == ["run"]:
        # Listen where the bot looks for Rasa (RASA_URL), on loopback unless told otherwise.
        url = urlparse(settings.rasa_url)
        if "--port" not in args and "-p" not in args:
            args += ["--port", str(url.port or 5005)]
        if "--interface" not in args and "-i" not in args:
            args += ["--interface", url.hostname or "127.0.0.1"]
    os.execve(str(RASA), [str(RASA), *args], env)


if __name__ == "__main__":
    main()
