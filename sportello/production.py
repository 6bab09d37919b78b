"""The production topology on one machine: REPLICAS of each process behind HAProxy, under supervisord.

`python -m sportello.production render DIR` writes `supervisord.conf` and `haproxy.cfg`;
`python -m sportello.production run` checks the settings, migrates the database once, renders
into `var/production` and replaces itself with supervisord, which starts everything and
restarts what dies (`make run-production`).

The addresses in the settings stay where every process looks: HAProxy listens on them
(back office, public pages, action server, Rasa, the bot's webhook) and spreads the calls over
the replicas, each on its own loopback port from PRODUCTION_BASE_PORT on. Telegram's updates go
to the bot replica chosen by the hash of the Telegram user who sent them, so one person's
messages are always taken, in order, by the same replica (what the bot knows of a person,
buttons and display mode, is in the bot's database, so any replica can take over);
Rasa's replicas share conversations through the SQL tracker store and take each conversation's
turns one at a time through the Redis lock store. The files hold no secret: each process reads
its secrets from the environment or `.env`, as in development.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from sqlalchemy.engine import make_url

from sportello.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent
SUPERVISORD = ROOT / ".venv" / "bin" / "supervisord"
KINDS = ("backoffice", "public", "actions", "rasa", "bot", "bothealth")
# Each process's command, run from the project's folder: the same here (supervisord), in the
# Procfile and in deploy/ (the image's entrypoints, Compose, Kubernetes), which imports these.
COMMANDS: dict[str, tuple[str, ...]] = {
    "migrate": (".venv/bin/python", "-m", "backoffice", "migrate"),
    "backoffice": (".venv/bin/python", "-m", "backoffice", "serve"),
    "actions": (".venv/bin/python", "-m", "actions"),
    "rasa": (
        ".venv/bin/python", "-m", "sportello.run_rasa", "run", "--model", "models/current.tar.gz",
        "--credentials", "credentials.yml", "--endpoints", "endpoints.yml",
    ),
    "bot": (".venv/bin/python", "-m", "bot"),
}
# Where the Telegram user who sent an update is, by kind of update.
_SENDERS = (
    "message.from", "edited_message.from", "callback_query.from", "inline_query.from",
    "my_chat_member.from", "chat_member.from", "chat_join_request.from", "message_reaction.user",
    "pre_checkout_query.from", "poll_answer.user",
)


@dataclass(frozen=True)
class Topology:
    """How many of each process, where HAProxy listens, where each replica listens."""

    replicas: int
    base_port: int
    front: dict[str, tuple[str, int]]
    webhook_path: str

    def port(self, kind: str, replica: int) -> int:
        """Replica `replica` (1-based) of `kind`: base + 10 × kind + replica."""
        return self.base_port + 10 * KINDS.index(kind) + replica


def topology(settings: Settings, replicas: int, base_port: int) -> Topology:
    if not 1 <= replicas <= 9:
        raise SystemExit("REPLICAS deve essere tra 1 e 9")
    rasa = urlparse(settings.rasa_url)
    actions = urlparse(settings.action_server_url or f"http://{settings.action_server_host}:{settings.action_server_port}")
    front = {
        "backoffice": (settings.backoffice_host, settings.backoffice_port),
        "actions": (actions.hostname or "127.0.0.1", actions.port or settings.action_server_port),
        "rasa": (rasa.hostname or "127.0.0.1", rasa.port or 5005),
        "bot": (settings.webhook_listen, settings.webhook_port),
    }
    if settings.backoffice_public_port:
        front["public"] = (settings.backoffice_public_host, settings.backoffice_public_port)
    path = urlparse(settings.webhook_url or "").path or "/"
    return Topology(replicas, base_port, front, path)


def problems(settings: Settings, replicas: int) -> list[str]:
    """Why these settings cannot run as replicas: one line each, naming the setting."""
    found = []
    if not settings.webhook_url:
        found.append("WEBHOOK_URL non è impostato: le repliche del bot ricevono Telegram via webhook")
    if replicas > 1:
        shared = {
            "DATABASE_URL": settings.database_url,
            "TRACKER_STORE_URL": settings.tracker_store_url,
            "HANDOFF_DATABASE_URL": settings.handoff_database_url or "sqlite://",
        }
        for name, url in shared.items():
            if make_url(url).get_backend_name() != "postgresql":
                found.append(f"{name} deve essere PostgreSQL: le repliche condividono questi dati")
        if not settings.redis_url:
            found.append("REDIS_URL non è impostato: le repliche di Rasa condividono i lock delle conversazioni")
    return found


def _env(values: dict[str, str]) -> str:
    # supervisord expands %(name)s in its files: a literal % is written %%.
    return ",".join(f'{key}="{value.replace("%", "%%")}"' for key, value in values.items())


def command(kind: str) -> str:
    """COMMANDS[kind] as supervisord runs it, the interpreter by its full path."""
    program, *args = COMMANDS[kind]
    return " ".join((str(ROOT / program), *args))


def _program(name: str, command: str, env: dict[str, str], logs: Path, priority: int) -> str:
    return f"""
[program:{name}]
command={command}
directory={ROOT}
environment={_env(env)}
priority={priority}
autostart=true
autorestart=true
startsecs=3
startretries=10
stopasgroup=true
killasgroup=true
stopwaitsecs=20
redirect_stderr=true
stdout_logfile={logs / (name + '.log')}
stdout_logfile_maxbytes=20MB
stdout_logfile_backups=3
"""


def supervisord_conf(top: Topology, out: Path, haproxy: str) -> str:
    """Every replica of every process, and HAProxy, restarted whenever it dies."""
    logs = out / "logs"
    parts = [f"""[supervisord]
nodaemon=true
logfile={out / 'supervisord.log'}
pidfile={out / 'supervisord.pid'}
childlogdir={logs}
; glibc's malloc: two arenas, not eight a core (see README, Prestazioni)
environment=MALLOC_ARENA_MAX="2"

[unix_http_server]
file={out / 'supervisor.sock'}
chmod=0700

[supervisorctl]
serverurl=unix://{out / 'supervisor.sock'}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
"""]
    parts.append(_program("haproxy", f"{haproxy} -W -db -f {out / 'haproxy.cfg'}", {}, logs, 10))
    for i in range(1, top.replicas + 1):
        backoffice = {
            "BACKOFFICE_HOST": "127.0.0.1",
            "BACKOFFICE_PORT": str(top.port("backoffice", i)),
            "BACKOFFICE_PUBLIC_HOST": "127.0.0.1",
            "BACKOFFICE_PUBLIC_PORT": str(top.port("public", i) if "public" in top.front else 0),
        }
        parts.append(_program(f"backoffice-{i}", command("backoffice"), backoffice, logs, 20))
        actions = {"ACTION_SERVER_HOST": "127.0.0.1", "ACTION_SERVER_PORT": str(top.port("actions", i))}
        parts.append(_program(f"actions-{i}", command("actions"), actions, logs, 30))
        rasa = {"RASA_URL": f"http://127.0.0.1:{top.port('rasa', i)}"}
        parts.append(_program(f"rasa-{i}", command("rasa"), rasa, logs, 40))
        bot = {
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(top.port("bot", i)),
            "BOT_STATE_DIR": str(out / f"bot-{i}"),
            "BOT_HEALTH_PORT": str(top.port("bothealth", i)),
            # Telegram's 30 a second are the bot's, shared by its replicas.
            "TELEGRAM_MESSAGES_PER_SECOND": str(max(1, 30 // top.replicas)),
        }
        parts.append(_program(f"bot-{i}", command("bot"), bot, logs, 50))
    return "".join(parts)


def _servers(top: Topology, kind: str, check: str) -> str:
    return "\n".join(
        f"    server {kind}-{i} 127.0.0.1:{top.port(kind, i)} {check}" for i in range(1, top.replicas + 1)
    )


def sender_rules() -> str:
    """HAProxy's lines that read the Telegram user who sent an update into txn.sender
    (also in deploy/k8s/haproxy.cfg, the balancer of the containers)."""
    return "\n".join(
        f"    http-request set-var(txn.sender) req.body,json_query('$.{kind}.id') "
        f"unless {{ var(txn.sender) -m found }}"
        if n
        else f"    http-request set-var(txn.sender) req.body,json_query('$.{kind}.id')"
        for n, kind in enumerate(_SENDERS)
    )


def haproxy_cfg(top: Topology, out: Path) -> str:
    """The balancer on the settings' addresses; replicas checked and taken out while down."""
    sender = sender_rules()
    checks = {
        "backoffice": "option httpchk GET /health",
        "public": "option httpchk GET /health",
        "actions": "option httpchk GET /health",
        "rasa": "option httpchk GET /",
    }
    sections = [f"""global
    maxconn 4096
    # Telegram's updates are read whole to find their sender: a 4,096-character message
    # written in \\u escapes is about 25 KB.
    tune.bufsize 65536
    stats socket {out / 'haproxy.sock'} mode 600 level admin

defaults
    mode http
    option httplog
    log stdout format raw local0 info
    timeout connect 5s
    timeout client 65s
    timeout server 65s
    timeout http-request 15s
    retries 2
    option redispatch
    # A replica killed between two calls: the call goes to another one. A call it had begun
    # is retried only when nothing came back (the turn was not taken), never after a timeout.
    retry-on conn-failure empty-response
"""]
    for kind in ("backoffice", "public", "actions", "rasa"):
        if kind not in top.front:
            continue
        host, port = top.front[kind]
        sections.append(f"""
frontend {kind}
    bind {host}:{port}
    default_backend {kind}

backend {kind}
    balance roundrobin
    {checks[kind]}
{_servers(top, kind, "check inter 2s fall 2 rise 1")}
""")
    host, port = top.front["bot"]
    bots = "\n".join(
        f"    server bot-{i} 127.0.0.1:{top.port('bot', i)} check port {top.port('bothealth', i)} inter 2s fall 2 rise 1"
        for i in range(1, top.replicas + 1)
    )
    sections.append(f"""
frontend bot
    bind {host}:{port}
    option http-buffer-request
{sender}
    http-request set-header X-Telegram-Sender %[var(txn.sender)] if {{ var(txn.sender) -m found }}
    default_backend bot

backend bot
    # One person's updates always to the same replica, in the order Telegram sends them.
    balance hdr(X-Telegram-Sender)
    hash-type consistent
    option httpchk GET /health
{bots}
""")
    return "".join(sections)


def render(settings: Settings, out: Path, replicas: int, base_port: int) -> Topology:
    """Write both files into `out` (created, private); return the topology they describe."""
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    top = topology(settings, replicas, base_port)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    (out / "logs").mkdir(exist_ok=True)
    for i in range(1, replicas + 1):
        (out / f"bot-{i}").mkdir(exist_ok=True)
    (out / "haproxy.cfg").write_text(haproxy_cfg(top, out), encoding="utf-8")
    (out / "supervisord.conf").write_text(supervisord_conf(top, out, haproxy), encoding="utf-8")
    return top


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sportello.production", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("render", "run"))
    parser.add_argument("dir", nargs="?", default=str(ROOT / "var" / "production"))
    parser.add_argument("--replicas", type=int, default=int(os.environ.get("REPLICAS", "2")))
    parser.add_argument("--base-port", type=int, default=int(os.environ.get("PRODUCTION_BASE_PORT", "9100")))
    args = parser.parse_args(argv)
    settings = get_settings()
    found = problems(settings, args.replicas)
    if found:
        for line in found:
            print(f"Impossibile avviare le repliche: {line}", file=sys.stderr)
        raise SystemExit(2)
    out = Path(args.dir).resolve()
    render(settings, out, args.replicas, args.base_port)
    if args.command == "run":
        from sportello.security import exit_if_unsafe

        exit_if_unsafe(settings, "backoffice", "actions", "rasa", "bot")
        migrate = command("migrate").split()
        if os.spawnv(os.P_WAIT, migrate[0], migrate) != 0:
            raise SystemExit("la migrazione del database non è riuscita")
        conf = str(out / "supervisord.conf")
        os.execv(str(SUPERVISORD), [str(SUPERVISORD), "-n", "-c", conf])
    print(out)


if __name__ == "__main__":
    main()
