"""Run the fake Telegram Bot API standalone: python -m localtelegram --port 8081 --token 123456:LOCAL."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from .server import LocalBotApi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:LOCAL")
    parser.add_argument("--bot-username", default="sportello_test_bot")
    parser.add_argument("--no-privacy", action="store_true", help="bot sees every group message")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def make_app() -> web.Application:
        # Built inside the running loop so the server's asyncio primitives belong to it.
        server = LocalBotApi(args.token, bot_username=args.bot_username, privacy_mode=not args.no_privacy)
        return server.app

    base = f"http://{args.host}:{args.port}"
    print(f"Local Bot API on {base}  token={args.token}")
    print(f"  PTB: Bot(token, base_url='{base}/bot', base_file_url='{base}/file/bot')")
    print(f"  control API: {base}/_control/...")
    web.run_app(make_app(), host=args.host, port=args.port, shutdown_timeout=2.0, print=None)


if __name__ == "__main__":
    main()
