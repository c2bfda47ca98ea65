"""A fake Telegram Bot API server on 127.0.0.1 that the real python-telegram-bot talks to over HTTP.

Point PTB at it with::

    Application.builder().token(fake.token).base_url(f"{fake.url}/bot").base_file_url(f"{fake.url}/file/bot")

Requests then arrive as ``POST /bot<token>/<method>``. PTB 22 sends its parameters as
``application/x-www-form-urlencoded`` fields (``multipart/form-data`` when files are uploaded) in
which string values are sent raw and every other value JSON-encoded: ``chat_id=42``,
``text=42`` and ``reply_markup={"inline_keyboard": ...}`` all arrive as strings. Values are
decoded per field: text-like fields stay strings, the rest are JSON-decoded when they parse.
JSON bodies are accepted too.

What users do is queued with ``push_*`` for ``getUpdates``; what the bot did is recorded in
:attr:`FakeTelegram.calls` and :attr:`FakeTelegram.sent`, and every message sent or edited in
:attr:`FakeTelegram.stamps` with its arrival time. :meth:`FakeTelegram.limit_rate` makes it enforce
Telegram's limits (off by default): a request over them gets 429 with ``retry_after`` and is
recorded in :attr:`FakeTelegram.throttled`; :meth:`FakeTelegram.slow` delays answers. Faults for a while:
:meth:`FakeTelegram.hang_next` (no answer until the client gives up; nothing done),
:meth:`FakeTelegram.drop_next` (the connection closed without an answer; nothing done) and
:meth:`FakeTelegram.down` / :meth:`FakeTelegram.up` (every call of a method fails until it is back);
:attr:`FakeTelegram.requests` keeps every call's arrival time. The server speaks HTTP/1.1 through
``h11`` on asyncio streams so that :meth:`FakeTelegram.stop` is immediate and leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import itertools
import json
import logging
import re
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

import h11
from starlette.datastructures import UploadFile
from starlette.requests import Request

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]

MAX_TEXT_LENGTH = 4096
_DROP = 0  # a "status" that closes the connection without an answer
MAX_CALLBACK_DATA_BYTES = 64
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
# Methods that put a message in a chat, and so count towards Telegram's limits.
MESSAGE_METHODS = frozenset({"sendmessage", "editmessagetext", "sendlocation"})
SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

# Parameters whose values are strings even when they look like JSON ("text=42" is the text "42").
STRING_FIELDS = frozenset(
    {
        "action",
        "address",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "certificate",
        "currency",
        "custom_title",
        "description",
        "document",
        "emoji",
        "file_id",
        "first_name",
        "foursquare_id",
        "foursquare_type",
        "game_short_name",
        "google_place_id",
        "google_place_type",
        "inline_message_id",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "next_offset",
        "parse_mode",
        "payload",
        "phone_number",
        "photo",
        "provider_token",
        "query",
        "question",
        "secret_token",
        "short_description",
        "start_parameter",
        "sticker",
        "switch_pm_parameter",
        "switch_pm_text",
        "text",
        "thumbnail",
        "title",
        "url",
        "vcard",
        "video",
        "video_note",
        "voice",
    }
)


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": status, "description": ...}``."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None
    times: int


def decode_value(key: str, value: Any) -> Any:
    """A form value as the Bot API reads it: JSON for every field that is not text-like."""
    if not isinstance(value, str) or key in STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def busiest(times: Iterable[float], window: float = 1.0) -> int:
    """The most events that fell inside any ``window`` seconds (half-open: an event ``window`` later is outside)."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_text(text: str, parse_mode: str | None) -> str:
    """The text after entity parsing, roughly: HTML tags removed and entities unescaped."""
    if parse_mode is not None and parse_mode.upper() == "HTML":
        return html.unescape(re.sub(r"<[^>]*>", "", text))
    return text


class FakeTelegram:
    """A Telegram Bot API server for tests; see the module docstring."""

    long_poll_cap: float = 5.0
    """Longest wait of one ``getUpdates`` call, whatever ``timeout`` the bot asks for."""

    def __init__(self, token: str = "123456:TEST-TOKEN") -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id: int = int(prefix) if prefix.isdigit() else 123456
        self.bot_username: str = "test_voisins_bot"
        self.bot_first_name: str = "Test Bot"
        self.calls: list[tuple[str, JSONDict]] = []
        self.sent: list[JSONDict] = []
        self.webhook: JSONDict | None = None
        self.answered_callbacks: list[str] = []
        self.allowed_updates: list[str] | None = None
        self.messages: dict[tuple[int, int], JSONDict] = {}
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.errors: list[BaseException] = []
        self._updates: list[JSONDict] = []
        self._last_update_id = 10_000
        self._callback_ids = itertools.count(4_200_000_000_000_000_001)
        self._known_callbacks: set[str] = set()
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._users: dict[int, JSONDict] = {}
        self._chats: dict[int, JSONDict] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._delays: dict[str, list[float]] = {}
        self._hangs: dict[str, list[float]] = {}
        self._drops: dict[str, int] = {}
        self._outages: dict[str, _Failure] = {}
        self.requests: list[tuple[float, str]] = []  # (arrival, method) of every call
        self.refused: list[tuple[float, str, int]] = []  # (arrival, method, status) of every injected failure
        self.dropped = 0
        self.hung = 0
        self.stamps: list[tuple[float, str, int | None]] = []
        self.throttled: list[tuple[float, str, int | None]] = []
        self.max_per_second: int | None = None
        self.per_chat_interval: float | None = None
        self.rate_window = 1.0
        self.rate_retry_after = 1
        self._recent: deque[float] = deque()
        self._last_in_chat: dict[int, float] = {}
        self._poll_generation = 0
        self._changed = asyncio.Event()
        self._closing = False
        self._server: asyncio.Server | None = None
        self._url: str | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._busy: set[asyncio.Task[None]] = set()
        self._methods: dict[str, Any] = {
            name.lower(): getattr(self, f"_api_{name}")
            for name in (
                "getMe",
                "getUpdates",
                "setWebhook",
                "deleteWebhook",
                "getWebhookInfo",
                "sendMessage",
                "editMessageText",
                "editMessageReplyMarkup",
                "answerCallbackQuery",
                "sendChatAction",
                "setMyCommands",
                "deleteMyCommands",
                "getMyCommands",
                "sendLocation",
                "close",
                "logOut",
            )
        }
        self._method_names = {key: value.__name__.removeprefix("_api_") for key, value in self._methods.items()}

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` once started."""
        if self._url is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._url

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1; connections are accepted when this returns."""
        if self._server is not None:
            raise RuntimeError("FakeTelegram is already started")
        self._closing = False
        self._server = await asyncio.start_server(self._serve_connection, host="127.0.0.1", port=0)
        port = self._server.sockets[0].getsockname()[1]
        self._url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Wake pending long polls, answer them, close every connection and the listening socket.

        Raises :class:`RuntimeError` if a request made the fake itself fail (a bug of the fake).
        """
        await self._shutdown()
        if self.errors:
            raise RuntimeError(f"the fake Telegram server failed on {len(self.errors)} request(s)") from (
                self.errors[0]
            )

    async def _shutdown(self) -> None:
        server = self._server
        if server is None:
            return
        self._server = None
        self._closing = True
        self._notify()
        server.close()
        for task, writer in list(self._connections.items()):
            if task not in self._busy:
                writer.close()
        tasks = list(self._connections)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=2.0)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await server.wait_closed()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self.stop()
        else:
            await self._shutdown()

    # ------------------------------------------------------------------ what users do

    def user(self, user_id: int, language_code: str | None = "fr", first_name: str = "Test") -> JSONDict:
        """The ``User`` object of a person (remembered, so later chats with them carry their name)."""
        person: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code is not None:
            person["language_code"] = language_code
        self._users[user_id] = person
        return dict(person)

    def chat(self, chat_id: int) -> JSONDict:
        """The ``Chat`` object of a chat: private for positive ids, a (super)group for negative ones."""
        known = self._chats.get(chat_id)
        if known is not None:
            return dict(known)
        if chat_id < 0:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            made: JSONDict = {"id": chat_id, "type": kind, "title": "Test group"}
        else:
            person = self._users.get(chat_id, {})
            made = {"id": chat_id, "type": "private", "first_name": person.get("first_name", "Test")}
        self._chats[chat_id] = made
        return dict(made)

    def bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def make_message_update(
        self,
        user_id: int,
        text: str,
        language_code: str | None = "fr",
        first_name: str = "Test",
        chat_id: int | None = None,
    ) -> JSONDict:
        """A text message from a person as an Update (with ``update_id``), not queued."""
        message = self._incoming(user_id, language_code, first_name, chat_id)
        message["text"] = text
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_length(command)}]
        return {"update_id": self._new_update_id(), "message": message}

    def make_location_update(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        language_code: str | None = "fr",
        first_name: str = "Test",
        chat_id: int | None = None,
    ) -> JSONDict:
        """A shared location from a person as an Update, not queued."""
        message = self._incoming(user_id, language_code, first_name, chat_id)
        message["location"] = {"latitude": latitude, "longitude": longitude}
        return {"update_id": self._new_update_id(), "message": message}

    def make_callback_update(
        self,
        user_id: int,
        data: str,
        message_id: int | None = None,
        language_code: str | None = "fr",
        first_name: str = "Test",
    ) -> JSONDict:
        """A button press as an Update, not queued.

        The message is the bot's message ``message_id`` in the person's private chat, by default
        the last one the bot sent there with an inline keyboard (or its last message at all).
        """
        person = self.user(user_id, language_code, first_name)
        message = self._bot_message_for_callback(user_id, message_id)
        query_id = str(next(self._callback_ids))
        self._known_callbacks.add(query_id)
        query: JSONDict = {
            "id": query_id,
            "from": person,
            "message": message,
            "chat_instance": str(-(user_id * 7919 + self.bot_id)),
            "data": data,
        }
        return {"update_id": self._new_update_id(), "callback_query": query}

    def push_update(self, update: JSONDict) -> JSONDict:
        """Queue a raw Update for ``getUpdates``; an ``update_id`` is given if it has none."""
        if "update_id" not in update:
            update["update_id"] = self._new_update_id()
        else:
            self._last_update_id = max(self._last_update_id, int(update["update_id"]))
        self._updates.append(update)
        self._notify()
        return update

    def push_message(
        self,
        user_id: int,
        text: str,
        language_code: str | None = "fr",
        first_name: str = "Test",
        chat_id: int | None = None,
    ) -> JSONDict:
        """A person sends ``text``; the chat is their private chat unless ``chat_id`` is given."""
        return self.push_update(self.make_message_update(user_id, text, language_code, first_name, chat_id))

    def push_callback(
        self,
        user_id: int,
        data: str,
        message_id: int | None = None,
        language_code: str | None = "fr",
    ) -> JSONDict:
        """A person presses a button carrying ``data`` (see :meth:`make_callback_update`)."""
        return self.push_update(self.make_callback_update(user_id, data, message_id, language_code))

    def push_location(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        language_code: str | None = "fr",
    ) -> JSONDict:
        """A person shares a location in their private chat."""
        return self.push_update(self.make_location_update(user_id, latitude, longitude, language_code))

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by a ``getUpdates`` offset."""
        return list(self._updates)

    # ------------------------------------------------------------------ what the bot did

    def sent_to(self, chat_id: int) -> list[JSONDict]:
        """Messages sent or edited in ``chat_id``, oldest first."""
        return [entry for entry in self.sent if entry["chat_id"] == chat_id]

    def calls_of(self, method: str) -> list[JSONDict]:
        """Parameters of every call of ``method`` (case-insensitive), oldest first."""
        wanted = method.lower()
        return [params for name, params in self.calls if name.lower() == wanted]

    def get_commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """The command list set for a scope and language, as ``getMyCommands`` answers it."""
        return list(self.commands.get(self._commands_key(scope, language_code), []))

    async def wait_sent(self, chat_id: int, count: int = 1, timeout: float = 120.0) -> list[JSONDict]:  # noqa: ASYNC109
        """Wait until at least ``count`` messages were sent to (or edited in) ``chat_id``; return them all."""
        try:
            async with asyncio.timeout(timeout):
                while len(got := self.sent_to(chat_id)) < count:
                    await self._changed.wait()
        except TimeoutError:
            got = self.sent_to(chat_id)
            texts = [(entry["method"], entry["text"]) for entry in got]
            others = [(name, params.get("chat_id")) for name, params in self.calls if name != "getUpdates"]
            raise AssertionError(
                f"expected {count} message(s) to chat {chat_id} within {timeout}s, got {len(got)}: {texts}; "
                f"other calls: {others}"
            ) from None
        return got

    async def wait_calls(self, method: str, count: int = 1, timeout: float = 120.0) -> list[JSONDict]:  # noqa: ASYNC109
        """Wait until ``method`` was called at least ``count`` times; return every call's parameters."""
        try:
            async with asyncio.timeout(timeout):
                while len(got := self.calls_of(method)) < count:
                    await self._changed.wait()
        except TimeoutError:
            names = [name for name, _ in self.calls if name != "getUpdates"]
            raise AssertionError(
                f"expected {count} call(s) of {method} within {timeout}s, got {len(self.calls_of(method))}; "
                f"calls: {names}"
            ) from None
        return got

    # ------------------------------------------------------------------ fault knobs

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this error (``retry_after`` as parameter)."""
        failure = _Failure(status, description, retry_after, times)
        self._failures.setdefault(method.lower(), []).append(failure)

    def limit_rate(
        self,
        per_second: int | None = 30,
        per_chat_interval: float | None = 1.0,
        retry_after: int = 1,
        window: float = 1.0,
    ) -> None:
        """Enforce Telegram's limits on messages (sent or edited): more than ``per_second`` in any
        ``window`` seconds overall, or two in one chat less than ``per_chat_interval`` apart, get 429
        with ``retry_after``. None switches a limit off; both are off until this is called."""
        self.max_per_second = per_second
        self.per_chat_interval = per_chat_interval
        self.rate_retry_after = retry_after
        self.rate_window = window

    def slow(self, method: str, seconds: float, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` ``seconds`` late (after doing what they ask)."""
        self._delays.setdefault(method.lower(), []).extend([seconds] * times)

    def hang_next(self, method: str, seconds: float, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` get no answer for ``seconds``, then 504; nothing is done."""
        self._hangs.setdefault(method.lower(), []).extend([seconds] * times)

    def drop_next(self, method: str, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` have their connection closed without an answer; nothing is done."""
        self._drops[method.lower()] = self._drops.get(method.lower(), 0) + times

    def down(self, method: str, status: int, description: str, retry_after: int | None = None) -> None:
        """Every call of ``method`` gets this error until :meth:`up`."""
        self._outages[method.lower()] = _Failure(status, description, retry_after, 0)

    def up(self, method: str | None = None) -> None:
        """``method`` (or every method) works again."""
        if method is None:
            self._outages.clear()
        else:
            self._outages.pop(method.lower(), None)

    def message_times(self, method: str | None = None) -> list[float]:
        """Arrival times of the accepted messages (of ``method``, or all), for :func:`busiest`."""
        return [moment for moment, name, _ in self.stamps if method is None or name.lower() == method.lower()]

    def _check_rate(self, method: str, params: JSONDict) -> None:
        """Record an accepted message's arrival, or refuse it with 429 when it breaks a limit."""
        now = time.monotonic()
        chat = params.get("chat_id")
        chat_id = chat if isinstance(chat, int) and not isinstance(chat, bool) else None
        while self._recent and now - self._recent[0] >= self.rate_window:
            self._recent.popleft()
        over = self.max_per_second is not None and len(self._recent) >= self.max_per_second
        if not over and self.per_chat_interval is not None and chat_id is not None:
            last = self._last_in_chat.get(chat_id)
            over = last is not None and now - last < self.per_chat_interval
        if over:
            self.throttled.append((now, method, chat_id))
            raise ApiError(
                429,
                f"Too Many Requests: retry after {self.rate_retry_after}",
                {"retry_after": self.rate_retry_after},
            )
        self._recent.append(now)
        if chat_id is not None:
            self._last_in_chat[chat_id] = now
        self.stamps.append((now, method, chat_id))

    def _take_failure(self, method: str) -> ApiError | None:
        queue = self._failures.get(method.lower())
        if not queue:
            outage = self._outages.get(method.lower())
            if outage is None:
                return None
            parameters = {"retry_after": outage.retry_after} if outage.retry_after is not None else None
            return ApiError(outage.status, outage.description, parameters)
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        parameters = {"retry_after": failure.retry_after} if failure.retry_after is not None else None
        return ApiError(failure.status, failure.description, parameters)

    # ------------------------------------------------------------------ internals: state

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    def _new_update_id(self) -> int:
        self._last_update_id += 1
        return self._last_update_id

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        while (chat_id, message_id := next(counter)) in self.messages:
            pass
        return message_id

    def _incoming(self, user_id: int, language_code: str | None, first_name: str, chat_id: int | None) -> JSONDict:
        person = self.user(user_id, language_code, first_name)
        where = user_id if chat_id is None else chat_id
        message: JSONDict = {
            "message_id": self._next_message_id(where),
            "from": person,
            "chat": self.chat(where),
            "date": int(time.time()),
        }
        self.messages[(where, message["message_id"])] = message
        return message

    def _bot_message_for_callback(self, chat_id: int, message_id: int | None) -> JSONDict:
        if message_id is not None:
            found = self.messages.get((chat_id, message_id))
            if found is not None:
                return copy.deepcopy(found)
        else:
            ours = [m for (chat, _), m in self.messages.items() if chat == chat_id and self._is_ours(m)]
            with_keyboard = [m for m in ours if "reply_markup" in m]
            if with_keyboard or ours:
                return copy.deepcopy((with_keyboard or ours)[-1])
        made: JSONDict = {
            "message_id": message_id if message_id is not None else self._next_message_id(chat_id),
            "from": self.bot_user(),
            "chat": self.chat(chat_id),
            "date": int(time.time()),
            "text": "…",
        }
        self.messages[(chat_id, made["message_id"])] = made
        return dict(made)

    def _is_ours(self, message: JSONDict) -> bool:
        return bool(message.get("from", {}).get("id") == self.bot_id)

    def _deliverable(self, offset: int | None, limit: int) -> list[JSONDict]:
        if offset is not None and offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset is not None and offset < 0:
            self._updates = self._updates[offset:]
        allowed = set(self.allowed_updates) if self.allowed_updates else None

        def wanted(update: JSONDict) -> bool:
            kinds = set(update) - {"update_id"}
            if allowed is None:
                return not kinds <= DEFAULT_EXCLUDED_UPDATES
            return bool(kinds & allowed)

        self._updates = [u for u in self._updates if wanted(u)]
        return self._updates[:limit]

    @staticmethod
    def _commands_key(scope: JSONDict | None, language_code: str | None) -> tuple[str, str]:
        return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""

    # ------------------------------------------------------------------ internals: HTTP

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        conn = h11.Connection(h11.SERVER)
        try:
            while not self._closing:
                request = await self._next_event(conn, reader)
                if not isinstance(request, h11.Request):
                    break
                self._busy.add(task)
                body = bytearray()
                while True:
                    event = await self._next_event(conn, reader)
                    if isinstance(event, h11.Data):
                        body += event.data
                    elif isinstance(event, h11.EndOfMessage):
                        break
                    else:
                        return
                status, payload = await self._handle(request, bytes(body))
                if status == _DROP:
                    break  # closed without a word, as a connection lost on the way
                data = json.dumps(payload).encode()
                headers = [("content-type", "application/json"), ("content-length", str(len(data)))]
                if self._closing:
                    headers.append(("connection", "close"))
                response = h11.Response(status_code=status, headers=headers, reason=_phrase(status))
                writer.write(conn.send(response) or b"")
                writer.write(conn.send(h11.Data(data=data)) or b"")
                writer.write(conn.send(h11.EndOfMessage()) or b"")
                await writer.drain()
                self._busy.discard(task)
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    break
                conn.start_next_cycle()
        except (h11.ProtocolError, ConnectionError):
            pass
        finally:
            self._busy.discard(task)
            self._connections.pop(task, None)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    @staticmethod
    async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
                continue
            return event

    async def _handle(self, request: h11.Request, body: bytes) -> tuple[int, JSONDict]:
        target = urlsplit(request.target.decode("latin-1"))
        path = unquote(target.path)
        if not path.startswith("/bot"):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        token, slash, method = path[len("/bot") :].partition("/")
        if not slash or not method or "/" in method:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        try:
            params = await self._decode_params(request, target.query, body)
        except Exception as exc:  # malformed JSON, form or multipart body
            return 400, bad_request(f"can't parse request: {exc}").payload()
        handler = self._methods.get(method.lower())
        name = self._method_names.get(method.lower(), method)
        self.calls.append((name, params))
        self.requests.append((time.monotonic(), name))
        self._notify()
        if self._drops.get(name.lower()):
            self._drops[name.lower()] -= 1
            self.dropped += 1
            return _DROP, {}
        hangs = self._hangs.get(name.lower())
        if hangs:
            self.hung += 1
            await asyncio.sleep(hangs.pop(0))
            return 504, {"ok": False, "error_code": 504, "description": "Gateway Timeout"}
        try:
            failure = self._take_failure(name)
            if failure is not None:
                self.refused.append((time.monotonic(), name, failure.status))
                raise failure
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            if name.lower() in MESSAGE_METHODS:
                self._check_rate(name, params)
            result = await handler(params)
            delays = self._delays.get(name.lower())
            if delays:
                await asyncio.sleep(delays.pop(0))
        except ApiError as error:
            return error.status, error.payload()
        except Exception as exc:
            log.exception("fake Telegram failed on %s", name)
            self.errors.append(exc)
            return 500, {"ok": False, "error_code": 500, "description": f"Internal Server Error: {exc!r}"}
        self._notify()
        return 200, {"ok": True, "result": result}

    async def _decode_params(self, request: h11.Request, query: str, body: bytes) -> JSONDict:
        raw: JSONDict = dict(parse_qsl(query, keep_blank_values=True))
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in request.headers}
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if body:
            if content_type == "application/json":
                loaded = json.loads(body)
                if not isinstance(loaded, dict):
                    raise ValueError("the JSON body is not an object")
                raw.update(loaded)
            elif content_type == "application/x-www-form-urlencoded":
                raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            elif content_type == "multipart/form-data":
                raw.update(await self._decode_multipart(request, body))
            else:
                raise ValueError(f"unsupported content type {content_type!r}")
        return {key: decode_value(key, value) for key, value in raw.items()}

    @staticmethod
    async def _decode_multipart(request: h11.Request, body: bytes) -> JSONDict:
        scope = {
            "type": "http",
            "method": request.method.decode("ascii"),
            "path": "/",
            "query_string": b"",
            "headers": [(name.lower(), value) for name, value in request.headers],
        }

        async def receive() -> JSONDict:
            return {"type": "http.request", "body": body, "more_body": False}

        fields: JSONDict = {}
        async with Request(scope, receive).form() as form:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    fields[key] = {
                        "filename": value.filename,
                        "content_type": value.content_type,
                        "content": await value.read(),
                    }
                else:
                    fields[key] = value
        return fields

    # ------------------------------------------------------------------ internals: parameter checks

    @staticmethod
    def _int(params: JSONDict, key: str, missing: str) -> int:
        value = params.get(key)
        if value is None or value == "":
            raise bad_request(missing)
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request(f"invalid {key} specified")
        return value

    @staticmethod
    def _chat_id(params: JSONDict) -> int:
        value = params.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, str):
            raise bad_request("chat not found")  # @usernames are unknown here
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request("invalid chat_id specified")
        return value

    @staticmethod
    def _check_text(params: JSONDict) -> str:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise bad_request("message text is empty")
        if len(visible_text(text, params.get("parse_mode"))) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        return text

    @staticmethod
    def _check_markup(params: JSONDict) -> JSONDict | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is not None:
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not button.get("text"):
                        raise bad_request("text buttons are unallowed in the inline keyboard")
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                        raise bad_request("BUTTON_DATA_INVALID")
        return markup

    def _record(self, method: str, chat_id: int | None, message: JSONDict | None, params: JSONDict) -> None:
        entry: JSONDict = {
            "method": method,
            "chat_id": chat_id,
            "message_id": message["message_id"] if message else params.get("message_id"),
            "text": message.get("text") if message else params.get("text"),
            "reply_markup": params.get("reply_markup"),
            "params": params,
            "message": copy.deepcopy(message) if message else None,
        }
        if message and "location" in message:
            entry["location"] = message["location"]
        self.sent.append(entry)

    def _new_bot_message(self, chat_id: int, params: JSONDict) -> JSONDict:
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": self.bot_user(),
            "chat": self.chat(chat_id),
            "date": int(time.time()),
        }
        reply = params.get("reply_parameters")
        if isinstance(reply, dict) and isinstance(reply.get("message_id"), int):
            replied = self.messages.get((chat_id, reply["message_id"]))
            if replied is not None:
                message["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        return message

    def _editable(self, params: JSONDict) -> tuple[int, JSONDict]:
        chat_id = self._chat_id(params)
        message_id = self._int(params, "message_id", "message identifier is not specified")
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise bad_request("message to edit not found")
        if not self._is_ours(message):
            raise bad_request("message can't be edited")
        return chat_id, message

    # ------------------------------------------------------------------ Bot API methods

    async def _api_getMe(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_getUpdates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = params.get("limit", 100)
        timeout = params.get("timeout", 0)
        if offset is not None and (isinstance(offset, bool) or not isinstance(offset, int)):
            raise bad_request("invalid offset specified")
        limit = min(max(limit, 1), 100) if isinstance(limit, int) else 100
        timeout = max(float(timeout), 0.0) if isinstance(timeout, int | float) else 0.0
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = [str(kind) for kind in allowed] or None
        # Like Telegram, a newer getUpdates ends the long poll still waiting (an abandoned one).
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(timeout, self.long_poll_cap)
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            batch = self._deliverable(offset, limit)
            remaining = deadline - loop.time()
            if batch or self._closing or remaining <= 0:
                return copy.deepcopy(batch)
            event = self._changed
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await event.wait()

    async def _api_setWebhook(self, params: JSONDict) -> bool:
        url = params.get("url")
        if not url:
            return await self._api_deleteWebhook(params)
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN_RE.match(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = [str(kind) for kind in allowed] or None
        webhook = {key: value for key, value in params.items() if key != "certificate"}
        webhook["has_custom_certificate"] = "certificate" in params
        self.webhook = webhook
        return True

    async def _api_deleteWebhook(self, params: JSONDict) -> bool:
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        self.webhook = None
        return True

    async def _api_getWebhookInfo(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook is not None:
            info["url"] = self.webhook["url"]
            info["has_custom_certificate"] = self.webhook["has_custom_certificate"]
            info["max_connections"] = self.webhook.get("max_connections", 40)
            if "ip_address" in self.webhook:
                info["ip_address"] = self.webhook["ip_address"]
            if self.allowed_updates:
                info["allowed_updates"] = list(self.allowed_updates)
        return info

    async def _api_sendMessage(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        text = self._check_text(params)
        markup = self._check_markup(params)
        message = self._new_bot_message(chat_id, params)
        message["text"] = visible_text(text, params.get("parse_mode"))
        if isinstance(params.get("entities"), list):
            message["entities"] = params["entities"]
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.messages[(chat_id, message["message_id"])] = message
        self._record("sendMessage", chat_id, message, params)
        return copy.deepcopy(message)

    async def _api_sendLocation(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        latitude, longitude = params.get("latitude"), params.get("longitude")
        if not isinstance(latitude, int | float) or not isinstance(longitude, int | float):
            raise bad_request("wrong latitude or longitude")
        markup = self._check_markup(params)
        message = self._new_bot_message(chat_id, params)
        message["location"] = {"latitude": float(latitude), "longitude": float(longitude)}
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.messages[(chat_id, message["message_id"])] = message
        self._record("sendLocation", chat_id, message, params)
        return copy.deepcopy(message)

    async def _api_editMessageText(self, params: JSONDict) -> JSONDict | bool:
        text = self._check_text(params)
        markup = self._check_markup(params)
        if params.get("inline_message_id"):
            self._record("editMessageText", None, None, params)
            return True
        chat_id, message = self._editable(params)
        new_text = visible_text(text, params.get("parse_mode"))
        inline = markup if markup is not None and "inline_keyboard" in markup else None
        if message.get("text") == new_text and message.get("reply_markup") == inline:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        message["text"] = new_text
        message["edit_date"] = int(time.time())
        message.pop("reply_markup", None)  # editing without reply_markup removes the keyboard
        if inline is not None:
            message["reply_markup"] = inline
        self._record("editMessageText", chat_id, message, params)
        return copy.deepcopy(message)

    async def _api_editMessageReplyMarkup(self, params: JSONDict) -> JSONDict | bool:
        markup = self._check_markup(params)
        if params.get("inline_message_id"):
            self._record("editMessageReplyMarkup", None, None, params)
            return True
        chat_id, message = self._editable(params)
        inline = markup if markup is not None and "inline_keyboard" in markup else None
        if message.get("reply_markup") == inline:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        message["edit_date"] = int(time.time())
        message.pop("reply_markup", None)
        if inline is not None:
            message["reply_markup"] = inline
        self._record("editMessageReplyMarkup", chat_id, message, params)
        return copy.deepcopy(message)

    async def _api_answerCallbackQuery(self, params: JSONDict) -> bool:
        query_id = params.get("callback_query_id")
        if not query_id:
            raise bad_request("QUERY_ID_INVALID")
        if str(query_id) not in self._known_callbacks:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        self.answered_callbacks.append(str(query_id))
        return True

    async def _api_sendChatAction(self, params: JSONDict) -> bool:
        self._chat_id(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    async def _api_setMyCommands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not COMMAND_RE.match(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("command description is empty or too long")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self.commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    async def _api_deleteMyCommands(self, params: JSONDict) -> bool:
        self.commands.pop(self._commands_key(params.get("scope"), params.get("language_code")), None)
        return True

    async def _api_getMyCommands(self, params: JSONDict) -> list[JSONDict]:
        return self.get_commands(params.get("scope"), params.get("language_code") or "")

    async def _api_close(self, params: JSONDict) -> bool:
        return True

    async def _api_logOut(self, params: JSONDict) -> bool:
        return True
