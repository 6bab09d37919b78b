"""Before `make run` starts anything: say in one line which port is already taken."""

from __future__ import annotations

import socket
import sys
from urllib.parse import urlparse

from sportello.settings import Settings, get_settings


def wanted_ports(settings: Settings, local_telegram_port: int | None = None) -> dict[int, str]:
    """The loopback ports the stack will listen on, with who listens there."""
    rasa = urlparse(settings.rasa_url)
    ports = {
        settings.backoffice_port: "back office (BACKOFFICE_PORT)",
        settings.action_server_port: "action server (ACTION_SERVER_PORT)",
        rasa.port or 5005: "Rasa (RASA_URL)",
    }
    if settings.backoffice_public_port:
        ports.setdefault(settings.backoffice_public_port, "pagine pubbliche (BACKOFFICE_PUBLIC_PORT)")
    if settings.webhook_url:
        ports.setdefault(settings.webhook_port, "webhook del bot (WEBHOOK_PORT)")
    if local_telegram_port:
        ports.setdefault(local_telegram_port, "Telegram locale (LOCALCHAT_TELEGRAM_PORT)")
    return ports


def taken(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def exit_if_taken(ports: dict[int, str]) -> None:
    for port, who in ports.items():
        if taken(port):
            sys.exit(f"La porta {port} ({who}) è già in uso: ferma l'altro processo o scegli un'altra porta.")


def main() -> None:
    exit_if_taken(wanted_ports(get_settings()))


if __name__ == "__main__":
    main()
