"""The local Telegram Bot API server (aiohttp), written from the published Bot API contract.

`make run` without a token talks to it, and the tests drive it: `python -m localtelegram` runs it alone.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from .chats import Chats
from .control import Control
from .messages import Messages
from .model import JSON, MAX_UPLOAD, ApiError, Params, Upload, bad_request


class LocalBotApi(Control, Messages, Chats):
    """In-memory Telegram: one bot, its users and chats, and an HTTP face for both.

    Bot API: ``/bot{token}/{method}`` and ``/file/bot{token}/{file_path}``.
    Control API (JSON in, ``{"ok", "result"}`` out), used by tests and terminal clients:
      GET  /_control/info                      token, bot user, webhook, pending update count
      POST /_control/reset                     forget users, chats, updates, files, webhook
      POST /_control/users                     {id, first_name, last_name?, username?, language_code?, phone_number?,
                                               started?}: started = wrote to the bot before, so it may write first
      POST /_control/chats                     {id, title, type=supergroup|group, is_forum, bot_status, members:[{user_id, status}]}
      POST /_control/chats/{id}/members        {user_id, status}
      POST /_control/chats/{id}/topics         {user_id, name}: a member opens a forum topic
      GET  /_control/chats/{id}/topics
      GET  /_control/chats/{id}/outputs        ?after=SEQ&wait=S&min_count=N&kinds=a,b&thread_id=T
      GET  /_control/chats/{id}/messages       current state of every message, both sides
      GET  /_control/chats/{id}/keyboard       reply keyboard shown now (or null)
      POST /_control/send                      {user_id, chat_id?, thread_id?, reply_to?, type, ...}: type is
                                               text{text} photo{data(b64),caption} document{data,file_name,mime_type}
                                               voice{data,duration} location{latitude,longitude}
                                               contact{phone_number,first_name,contact_user_id} sticker{emoji}
                                               audio{data,duration,title,performer,file_name,mime_type}
                                               video{data,duration,width,height} video_note{data,duration,length}
                                               animation{data,duration,width,height,file_name} dice{emoji,value}
                                               poll{question,options}
                                               (location{live_period} shares a live location)
      POST /_control/edit                      {user_id, chat_id?, message_id, text | latitude+longitude}: the
                                               user edits a text, or their live location moves: edited_message
      POST /_control/press                     {user_id, chat_id?, button | message_id+data, keyboard_only?}
      POST /_control/updates                   {update: {...}}: inject a raw update
      GET  /_control/updates?wait=S            pending updates (waits until the bot consumed them)
      POST /_control/throttle                  {count, retry_after, methods?}
      POST /_control/fail                      {method, count=1, error_code=400, description?}: the next
                                               `count` calls of `method` fail as Telegram would refuse them
      POST /_control/block                     {user_id, blocked}
      GET  /_control/files/{file_id}           raw bytes
      GET  /_control/calls?after=&method=      Bot API calls made, with params and outcome
      GET  /_control/commands                  setMyCommands state
    """

    def __init__(self, token: str = "123456:LOCAL-TEST-TOKEN", *, bot_username: str = "sportello_test_bot",
                 bot_name: str = "Sportello Digitale (test)", privacy_mode: bool = True) -> None:
        super().__init__(token, bot_username=bot_username, bot_name=bot_name, privacy_mode=privacy_mode)
        self.app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        self._setup_routes()
        self.app.on_shutdown.append(self._on_shutdown)

    def _setup_routes(self) -> None:
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        control: list[tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = [
            ("GET", "/_control/info", self._c_info),
            ("POST", "/_control/reset", self._c_reset),
            ("POST", "/_control/users", self._c_user),
            ("POST", "/_control/chats", self._c_chat),
            ("POST", "/_control/chats/{chat_id}/members", self._c_member),
            ("POST", "/_control/chats/{chat_id}/topics", self._c_topic),
            ("GET", "/_control/chats/{chat_id}/topics", self._c_topics),
            ("GET", "/_control/chats/{chat_id}/outputs", self._c_outputs),
            ("GET", "/_control/chats/{chat_id}/messages", self._c_messages),
            ("GET", "/_control/chats/{chat_id}/keyboard", self._c_keyboard),
            ("POST", "/_control/send", self._c_send),
            ("POST", "/_control/edit", self._c_edit),
            ("POST", "/_control/press", self._c_press),
            ("POST", "/_control/updates", self._c_raw_update),
            ("GET", "/_control/updates", self._c_pending),
            ("POST", "/_control/throttle", self._c_throttle),
            ("POST", "/_control/fail", self._c_fail),
            ("POST", "/_control/block", self._c_block),
            ("GET", "/_control/files/{file_id}", self._c_file),
            ("GET", "/_control/calls", self._c_calls),
            ("GET", "/_control/commands", self._c_commands),
        ]
        for verb, path, handler in control:
            self.app.router.add_route(verb, path, handler)

    async def _read_params(self, request: web.Request) -> Params:
        values: JSON = dict(request.query)
        files: dict[str, Upload] = {}
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON request body") from None
                if not isinstance(body, dict):
                    raise bad_request("request body must be a JSON object")
                values.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = Upload(value.file.read(), value.filename, value.content_type)
                    elif isinstance(value, (bytes, bytearray)):
                        values[key] = bytes(value).decode("utf-8")
                    else:
                        values[key] = value
        return Params(values, files)

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._reply(error=ApiError(401, "Unauthorized"))
        method_name = request.match_info["method"]
        handler = getattr(self, f"m_{method_name.lower()}", None)
        if handler is None:
            return self._reply(error=ApiError(404, "Not Found"))
        call: JSON = {"seq": next(self._seq), "method": method_name, "time": time.time()}
        self.calls.append(call)
        try:
            params = await self._read_params(request)
            call["params"] = params.public()
            self._check_throttle(method_name)
            self._check_failure(method_name)
            result = await handler(params)
        except ApiError as exc:
            call.update(ok=False, error_code=exc.code, description=exc.description, answered=time.time())
            return self._reply(error=exc)
        except web.HTTPRequestEntityTooLarge:
            call.update(ok=False, error_code=413, description="Request Entity Too Large", answered=time.time())
            return self._reply(error=ApiError(413, "Request Entity Too Large"))
        # When the answer left: a long poll's getUpdates is answered when an update came.
        call.update(ok=True, answered=time.time())
        return self._reply(result)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._reply(error=ApiError(401, "Unauthorized"))
        stored = self.file_paths.get(request.match_info["path"])
        if stored is None:
            return self._reply(error=ApiError(404, "Not Found"))
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")
