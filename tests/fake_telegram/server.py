"""An in-process fake of the Telegram Bot API.

Why: tests must drive the *real* python-telegram-bot ``Application`` (request
encoding, update parsing, error mapping, polling and webhook loops) without
touching the network.  ``FakeTelegram`` serves the Bot API over HTTP on
127.0.0.1, records every call, lets tests inject updates (queued for
``getUpdates`` or POSTed to the registered webhook) and injects faults
(429/403/400...) the way Telegram reports them.

Fidelity notes (further simplifications are noted on the relevant methods):

* PTB sends ``application/x-www-form-urlencoded`` (multipart when uploading
  files) where non-string values are JSON-encoded; plain JSON bodies and query
  strings are accepted too.
* ``parse_mode="HTML"`` is validated and converted to plain text + entities;
  Markdown/MarkdownV2 text is stored verbatim (not validated).
* Chats the fake never saw are assumed to exist; messages are *not*: editing,
  copying, pinning or replying to a message the fake does not know fails like
  Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import inspect
import itertools
import json
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http import HTTPStatus
from typing import Any, Final, Literal, TypeVar, overload

import aiohttp
from aiohttp import web

__all__ = [
    "REGISTERED_SECRET",
    "SECRET_HEADER",
    "ApiError",
    "Call",
    "FakeTelegram",
    "Topic",
    "UploadedFile",
    "WebhookDelivery",
    "free_port",
]

JSON = dict[str, Any]
MethodHandler = Callable[[JSON], Awaitable[Any]]
_T = TypeVar("_T")

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"

#: Methods whose successful calls count as "messages the bot sent".
SENT_MESSAGE_METHODS: Final = frozenset({"sendMessage", "copyMessage", "editMessageText"})

#: Methods that target a chat and therefore fail with 403 for a blocked user.
_CHAT_TARGETING_METHODS: Final = frozenset(
    {
        "sendMessage",
        "copyMessage",
        "forwardMessage",
        "sendPhoto",
        "sendChatAction",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
        "pinChatMessage",
        "unpinChatMessage",
        "deleteMessage",
    }
)

#: Update types Telegram does not deliver unless explicitly requested.
_OPT_IN_UPDATE_TYPES: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

#: Form parameters that are always strings (must not be JSON-decoded: "123" stays "123").
_STRING_PARAMS: Final = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "url",
        "secret_token",
        "name",
        "callback_query_id",
        "action",
        "icon_custom_emoji_id",
        "photo",
        "file_id",
        "language_code",
        "inline_message_id",
        "ip_address",
        "emoji",
        "title",
        "description",
        "short_description",
        "business_connection_id",
        "message_effect_id",
    }
)

#: Parameters carrying JSON objects/arrays; a JSON body may still pass them as strings.
_JSON_PARAMS: Final = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "reply_parameters",
        "link_preview_options",
    }
)

_CHAT_ACTIONS: Final = frozenset(
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

_TOPIC_ICON_COLORS: Final = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)

_MESSAGE_META_KEYS: Final = frozenset(
    {
        "message_id",
        "message_thread_id",
        "is_topic_message",
        "from",
        "sender_chat",
        "chat",
        "date",
        "edit_date",
        "reply_to_message",
        "reply_markup",
        "forward_origin",
        "author_signature",
        "has_protected_content",
    }
)

_SERVICE_KEYS: Final = frozenset(
    {"forum_topic_created", "forum_topic_closed", "forum_topic_reopened", "forum_topic_edited"}
)

_COMMAND_RE: Final = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,})?")
_SECRET_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_BOT_COMMAND_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")

_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class _Registered(enum.Enum):
    """Sentinel type: "use the secret registered via setWebhook"."""

    SECRET = "registered-secret"


#: Default for the per-injection ``secret_token`` override.
REGISTERED_SECRET: Final = _Registered.SECRET
SecretArg = str | None | Literal[_Registered.SECRET]


class ApiError(Exception):
    """A Telegram-style error; raise it from custom method handlers too."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        """Body exactly as the Bot API shapes errors."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True)
class Call:
    """One HTTP request the bot made, with the decoded parameters and our answer."""

    method: str
    params: JSON
    status: int = 200
    response: JSON = field(default_factory=dict)
    at: float = 0.0

    @property
    def ok(self) -> bool:
        """True if the fake answered with ``"ok": true``."""
        return self.status == 200

    @property
    def result(self) -> Any:
        """The ``result`` field of a successful answer (None for errors)."""
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        """The error description of a failed answer."""
        desc = self.response.get("description")
        return desc if isinstance(desc, str) else None


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST of an update to the bot's webhook; ``status`` is None if it never connected."""

    update_id: int
    url: str
    status: int | None
    secret_token: str | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Telegram treats any 2xx as delivered."""
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class UploadedFile:
    """A file the bot uploaded via multipart/form-data."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class Topic:
    """Server-side state of a forum topic."""

    chat_id: int | str
    message_thread_id: int
    name: str
    icon_color: int = _TOPIC_ICON_COLORS[0]
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    #: Closed in a way the bot cannot post into (see ``FakeTelegram.close_topic``).
    locked: bool = False
    deleted: bool = False

    def as_forum_topic(self) -> JSON:
        """The Bot API ``ForumTopic`` object."""
        topic: JSON = {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic


@dataclass
class _Fault:
    method: str
    error: ApiError | None  # None: stall (``stall_next``) or drop the connection (``reset_next``)
    remaining: int
    chat_id: int | str | None
    stall: float = 0.0


@dataclass
class _Delay:
    seconds: float
    remaining: int | None


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


def free_port(host: str = "127.0.0.1") -> int:
    """A currently free TCP port (for the bot's webhook server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _utf16_len(text: str) -> int:
    """Telegram measures entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _update_type(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "unknown")


def _default_description(status: int, retry_after: float) -> str:
    if status == 429:
        return f"Too Many Requests: retry after {_num(retry_after)}"
    known = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
        500: "Internal Server Error",
        502: "Bad Gateway",
    }
    if status in known:
        return known[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def _num(value: float) -> int | float:
    """Emit integral floats as ints, like Telegram does for retry_after."""
    return int(value) if float(value).is_integer() else value


class _HtmlToEntities(HTMLParser):
    """Parses Telegram's HTML subset into plain text + MessageEntity dicts."""

    _TAGS: Final = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "u": "underline",
        "ins": "underline",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "tg-spoiler": "spoiler",
        "span": "spoiler",
        "a": "text_link",
        "code": "code",
        "pre": "pre",
        "blockquote": "blockquote",
        "tg-emoji": "custom_emoji",
        "tg-time": "date_time",
    }

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self._source = source
        self._lines = source.splitlines(keepends=True)
        self._chunks: list[str] = []
        self._pos = 0
        self._stack: list[tuple[str, int, JSON | None]] = []
        self.entities: list[JSON] = []
        self.error: str | None = None

    @property
    def text(self) -> str:
        return "".join(self._chunks)

    def _byte_offset(self) -> int:
        line, col = self.getpos()
        index = sum(len(chunk) for chunk in self._lines[: line - 1]) + col
        return len(self._source[:index].encode())

    def handle_data(self, data: str) -> None:
        self._chunks.append(data)
        self._pos += _utf16_len(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.error:
            return
        attributes = dict(attrs)
        if tag not in self._TAGS or (tag == "span" and attributes.get("class") != "tg-spoiler"):
            self.error = f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}'
            return
        entity: JSON = {"type": self._TAGS[tag]}
        merged = False
        if tag == "a":
            entity["url"] = attributes.get("href") or ""
        elif tag == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id") or ""
        elif tag == "code" and self._stack and self._stack[-1][0] == "pre":
            # <pre><code class="language-x"> is a single pre entity with a language.
            pre_entity = self._stack[-1][2]
            css = attributes.get("class") or ""
            if pre_entity is not None and css.startswith("language-"):
                pre_entity["language"] = css.removeprefix("language-")
                merged = True
        self._stack.append((tag, self._pos, None if merged else entity))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.error:
            return
        if not self._stack:
            self.error = f'Unexpected end tag "{tag}" at byte offset {self._byte_offset()}'
            return
        open_tag, start, entity = self._stack.pop()
        if open_tag != tag:
            self.error = (
                f"Unmatched end tag at byte offset {self._byte_offset()}, "
                f'expected "</{open_tag}>", found "</{tag}>"'
            )
            return
        length = self._pos - start
        if entity is not None and length > 0:
            self.entities.append({**entity, "offset": start, "length": length})

    def finish(self) -> tuple[str, list[JSON]]:
        """Parse the source; raise ApiError like Telegram on malformed markup."""
        self.feed(self._source)
        self.close()
        if not self.error and self._stack:
            self.error = f'Can\'t find end tag corresponding to start tag "{self._stack[-1][0]}"'
        if self.error:
            raise ApiError(400, f"Bad Request: can't parse entities: {self.error}")
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return self.text, self.entities


class FakeTelegram:
    """Fake Bot API server for driving a real PTB Application in tests.

    Usage::

        async with FakeTelegram() as tg:
            app = (ApplicationBuilder().token(tg.token).base_url(tg.base_url)
                   .base_file_url(tg.base_file_url).build())
            ...
            await tg.send_text(user_id=42, text="hi")
            await tg.wait_for_calls("sendMessage", chat_id=42)

    Inject updates with ``send_text``/``press_button``/``send_*``/``add_update``; assert with
    ``calls``, ``sent_messages``, ``get_message`` and the ``wait_for*`` helpers; break things
    with ``fail_next``, ``block_user``, ``delete_topic``, ``close_topic`` and ``delay``.
    Webhook deliveries are not retried (the outcome is in ``webhook_deliveries``).
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_id: int = 123456,
        bot_username: str = "peerline_test_bot",
        bot_first_name: str = "Peerline Test",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token: str = token or f"{bot_id}:TEST-TOKEN-{secrets.token_hex(12)}"
        self.host = host
        self._requested_port = port
        self.port: int = 0
        self.bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }

        #: Every request the bot made, in arrival order.
        self.calls: list[Call] = []
        #: Every update injected (including ones later dropped by allowed_updates).
        self.injected_updates: list[JSON] = []
        #: Every webhook POST attempt, in order.
        self.webhook_deliveries: list[WebhookDelivery] = []

        self._queue: list[JSON] = []
        self._update_ids = itertools.count(10_000)
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._callback_queries: set[str] = set()
        self._message_ids: dict[int | str, int] = {}
        self._messages: dict[tuple[int | str, int], JSON] = {}
        self._users: dict[int, JSON] = {}
        self._chats: dict[int | str, JSON] = {}
        self._topics: dict[tuple[int | str, int], Topic] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._blocked: set[int | str] = set()
        self._faults: list[_Fault] = []
        self._delays: dict[str | None, _Delay] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._allowed_updates: list[str] | None = None

        self._webhook_url = ""
        self._webhook_secret: str | None = None
        self._webhook_max_connections = 40
        self._webhook_last_error: tuple[int, str] | None = None

        self._changed = asyncio.Event()
        self._polls_waiting = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._delivery_lock = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()

        self._methods: dict[str, tuple[str, MethodHandler]] = {}
        for name, handler in self._builtin_methods().items():
            self.register_method(name, handler)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeTelegram:
        """Bind to a free port (unless one was given) and start serving."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a long-polling getUpdates whose client went away must not
        # keep the server busy; shutdown_timeout keeps stop() fast.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._requested_port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._closing = False
        return self

    async def stop(self) -> None:
        """Wake long-polls, cancel background deliveries and shut the server down."""
        self._closing = True
        self._bump()
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ properties

    @property
    def base_url(self) -> str:
        """Pass to ``ApplicationBuilder().base_url()`` (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Pass to ``ApplicationBuilder().base_file_url()``."""
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def bot_id(self) -> int:
        bot_id: int = self.bot_user["id"]
        return bot_id

    @property
    def bot_username(self) -> str:
        username: str = self.bot_user["username"]
        return username

    @property
    def webhook_url(self) -> str:
        """URL registered via setWebhook ("" when polling)."""
        return self._webhook_url

    @property
    def webhook_secret(self) -> str | None:
        """secret_token registered via setWebhook."""
        return self._webhook_secret

    @property
    def allowed_updates(self) -> list[str] | None:
        """Last allowed_updates the bot asked for (None = Telegram's default set)."""
        return None if self._allowed_updates is None else list(self._allowed_updates)

    @property
    def polls_waiting(self) -> int:
        """Number of getUpdates requests currently long-polling (not yet recorded in calls)."""
        return self._polls_waiting

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates queued for getUpdates and not yet confirmed by an offset."""
        return list(self._queue)

    def api_url(self, method: str, token: str | None = None) -> str:
        """Full URL of a Bot API method, for raw-HTTP tests."""
        return f"{self.base_url}{token or self.token}/{method}"

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str, chat_id: int | str | None = None) -> list[Call]:
        """Calls of ``method`` (case-insensitive), optionally only for ``chat_id``."""
        wanted = method.lower()
        return [
            c
            for c in self.calls
            if c.method.lower() == wanted and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def sent_messages(
        self,
        chat_id: int | str | None = None,
        *,
        methods: Iterable[str] = SENT_MESSAGE_METHODS,
    ) -> list[JSON]:
        """Params of *successful* sendMessage/copyMessage/editMessageText calls, in order.

        Failed calls (blocked user, 429, ...) are excluded: nothing reached the user.
        """
        wanted = set(methods)
        return [
            c.params
            for c in self.calls
            if c.ok and c.method in wanted and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def sent_texts(self, chat_id: int | str | None = None) -> list[str]:
        """``text`` of successful sendMessage/editMessageText calls (raw, before parse_mode)."""
        return [
            str(p["text"])
            for p in self.sent_messages(chat_id, methods=("sendMessage", "editMessageText"))
            if "text" in p
        ]

    def get_message(self, chat_id: int | str, message_id: int) -> JSON | None:
        """Current server-side state of a message (after edits), or None if unknown/deleted."""
        msg = self._messages.get((chat_id, message_id))
        return None if msg is None else _clone(msg)

    def messages_in(self, chat_id: int | str) -> list[JSON]:
        """All known messages of a chat (both directions), ordered by message_id."""
        keys = sorted(k for k in self._messages if k[0] == chat_id)
        return [_clone(self._messages[k]) for k in keys]

    def get_topic(self, chat_id: int | str, message_thread_id: int) -> Topic | None:
        """State of a forum topic the fake knows about."""
        return self._topics.get((chat_id, message_thread_id))

    def commands(self, *, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """Commands registered via setMyCommands for a scope/language."""
        return list(self._commands.get(self._commands_key(scope, language_code), []))

    def clear_calls(self) -> None:
        """Forget recorded calls and deliveries (state such as messages is kept)."""
        self.calls.clear()
        self.webhook_deliveries.clear()

    def format_calls(self, limit: int = 40) -> str:
        """Human-readable call log for assertion messages (getUpdates collapsed)."""
        polls = sum(1 for c in self.calls if c.method == "getUpdates" and c.ok)
        shown = [c for c in self.calls if not (c.method == "getUpdates" and c.ok)]
        lines = [f"Calls seen ({len(self.calls)}, incl. {polls} successful getUpdates):"]
        if len(shown) > limit:
            lines.append(f"  ... {len(shown) - limit} earlier calls omitted")
        for call in shown[-limit:]:
            params = repr(call.params)
            if len(params) > 200:
                params = params[:197] + "..."
            outcome = "ok" if call.ok else f"{call.status} {call.description}"
            lines.append(f"  {call.method} {params} -> {outcome}")
        if self.webhook_deliveries:
            lines.append("Webhook deliveries:")
            lines.extend(
                f"  update {d.update_id} -> {d.status if d.status is not None else d.error}"
                for d in self.webhook_deliveries
            )
        return "\n".join(lines)

    # ------------------------------------------------------------------ waiting

    def _bump(self) -> None:
        """Wake everyone waiting for a state change (calls, updates, deliveries)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_state(self, check: Callable[[], _T | None], timeout: float) -> _T | None:
        """Re-evaluate ``check`` on every state change until it is not None or time is up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            result = check()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def _wait_until(self, check: Callable[[], _T | None], timeout: float, what: str) -> _T:
        result = await self._wait_state(check, timeout)
        if result is None:
            raise AssertionError(
                f"FakeTelegram: timed out after {timeout}s waiting for {what}.\n{self.format_calls()}"
            )
        return result

    @overload
    async def wait_for(
        self,
        predicate: Callable[[Call], bool],
        timeout: float = 5.0,
        *,
        description: str | None = None,
    ) -> Call: ...

    @overload
    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,
        *,
        description: str | None = None,
    ) -> None: ...

    async def wait_for(
        self,
        predicate: Callable[[Call], bool] | Callable[[], bool],
        timeout: float = 5.0,
        *,
        description: str | None = None,
    ) -> Call | None:
        """Wait (event-driven, no polling sleeps) until a condition holds.

        * ``predicate(call) -> bool``: returns the first recorded call (past or future)
          matching it; LookupError/TypeError inside the predicate count as "no match",
          so ``lambda c: c.params["text"] == "hi"`` is safe.
        * ``predicate() -> bool``: an arbitrary condition over the fake's state.

        Raises AssertionError listing the calls seen when ``timeout`` expires.
        """
        what = description or str(getattr(predicate, "__name__", None) or repr(predicate))
        if _arity(predicate) == 0:
            condition: Callable[[], bool] = predicate  # type: ignore[assignment]
            await self._wait_until(lambda: True if condition() else None, timeout, what)
            return None
        call_predicate: Callable[[Call], bool] = predicate  # type: ignore[assignment]

        def first_match() -> Call | None:
            for call in self.calls:
                try:
                    if call_predicate(call):
                        return call
                except (LookupError, TypeError):
                    continue
            return None

        return await self._wait_until(first_match, timeout, f"a call matching {what}")

    async def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        chat_id: int | str | None = None,
        timeout: float = 5.0,
    ) -> list[Call]:
        """Wait until ``count`` calls of ``method`` (any outcome) were made; return them all."""

        def enough() -> list[Call] | None:
            found = self.calls_to(method, chat_id)
            return found if len(found) >= count else None

        target = f"{count} x {method}" + (f" to chat {chat_id}" if chat_id is not None else "")
        return await self._wait_until(enough, timeout, target)

    async def wait_for_poll(self, timeout: float = 5.0) -> None:
        """Wait until a getUpdates long-poll is in progress (calls are recorded on completion)."""
        await self._wait_until(lambda: True if self._polls_waiting else None, timeout, "a long poll")

    async def wait_for_delivery(self, count: int = 1, timeout: float = 5.0) -> list[WebhookDelivery]:
        """Wait until ``count`` webhook deliveries were attempted."""

        def enough() -> list[WebhookDelivery] | None:
            return list(self.webhook_deliveries) if len(self.webhook_deliveries) >= count else None

        return await self._wait_until(enough, timeout, f"{count} webhook deliveries")

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: float = 1,
        description: str | None = None,
        count: int = 1,
        chat_id: int | str | None = None,
        *,
        parameters: JSON | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` (optionally to ``chat_id``) with an error.

        A 429 carries ``"parameters": {"retry_after": N}`` so PTB raises RetryAfter.
        """
        params = dict(parameters or {})
        if status == 429:
            params.setdefault("retry_after", _num(retry_after))
        error = ApiError(status, description or _default_description(status, retry_after), params or None)
        self._faults.append(_Fault(self._canonical(method), error, count, chat_id))

    def reset_next(self, method: str, count: int = 1, chat_id: int | str | None = None) -> None:
        """Close the connection of the next ``count`` calls of ``method`` without answering.

        The method does not run (nothing is sent); the call is recorded with status 0. Faults from
        ``fail_next`` and ``reset_next`` are used up in the order they were added.
        """
        self._faults.append(_Fault(self._canonical(method), None, count, chat_id))

    def stall_next(
        self, method: str, seconds: float, count: int = 1, chat_id: int | str | None = None
    ) -> None:
        """Run the next ``count`` calls of ``method`` but hold their answers back ``seconds``.

        Like ``delay``, but in line with ``fail_next`` and ``reset_next``: a client that times out meanwhile
        sees a failure although the call took effect (a sent message is sent).
        """
        self._faults.append(_Fault(self._canonical(method), None, count, chat_id, stall=seconds))

    def clear_faults(self) -> None:
        """Drop all pending fail_next rules."""
        self._faults.clear()

    def delay(self, method: str | None, seconds: float, count: int | None = None) -> None:
        """Delay responses of ``method`` (None = every method) by ``seconds``.

        The call is recorded on arrival; only the HTTP answer is held back.
        ``count=None`` keeps the delay until ``delay(method, 0)``.
        """
        key = None if method is None else self._canonical(method)
        if seconds <= 0:
            self._delays.pop(key, None)
        else:
            self._delays[key] = _Delay(seconds, count)

    def block_user(self, chat_id: int | str) -> None:
        """Sends to this chat now fail with 403 "Forbidden: bot was blocked by the user"."""
        self._blocked.add(chat_id)

    def unblock_user(self, chat_id: int | str) -> None:
        """Undo block_user."""
        self._blocked.discard(chat_id)

    def delete_topic(self, chat_id: int | str, message_thread_id: int) -> None:
        """Simulate an admin deleting a topic: sends into it get 400 "message thread not found"."""
        topic = self._topic(chat_id, message_thread_id)
        topic.deleted = True
        self._purge_thread(chat_id, message_thread_id)

    def close_topic(self, chat_id: int | str, message_thread_id: int) -> None:
        """Simulate a topic closed by an admin: the bot's sends get 400 "TOPIC_CLOSED"."""
        topic = self._topic(chat_id, message_thread_id)
        topic.closed = True
        topic.locked = True

    def reopen_topic(self, chat_id: int | str, message_thread_id: int) -> None:
        """Undo close_topic."""
        topic = self._topic(chat_id, message_thread_id)
        topic.closed = False
        topic.locked = False

    # ------------------------------------------------------------------ extension

    def register_method(self, name: str, handler: MethodHandler) -> None:
        """Add or override a Bot API method; ``handler(params)`` returns ``result`` or raises ApiError."""
        self._methods[name.lower()] = (name, handler)

    def stub(self, name: str, result: Any = True) -> None:
        """Make ``name`` succeed with a fixed ``result`` (e.g. setMyDescription)."""

        async def handler(_params: JSON) -> Any:
            return result

        self.register_method(name, handler)

    def register_chat(
        self,
        chat_id: int | str,
        chat_type: str = "supergroup",
        *,
        title: str | None = None,
        username: str | None = None,
        is_forum: bool = False,
    ) -> JSON:
        """Declare a group/channel chat so messages carry its title and forum flag."""
        chat: JSON = {"id": chat_id, "type": chat_type}
        if chat_type != "private":
            chat["title"] = title or f"Test {chat_type} {chat_id}"
        if username:
            chat["username"] = username
        if is_forum:
            chat["is_forum"] = True
        self._chats[chat_id] = chat
        return dict(chat)

    def add_file(self, data: bytes = b"fake-file-content", *, extension: str = "bin") -> str:
        """Register downloadable content; returns its file_id (usable with getFile)."""
        return self._new_file(data, "documents", extension).file_id

    # ------------------------------------------------------------------ update injection

    async def add_update(self, update: JSON, *, secret_token: SecretArg = REGISTERED_SECRET) -> JSON:
        """Inject a raw update (update_id is assigned if missing).

        Polling: queued for getUpdates.  Webhook: POSTed to the registered URL (awaited;
        the outcome lands in ``webhook_deliveries``).  ``secret_token`` overrides the
        header value for this delivery (None = send no header).
        """
        if "update_id" in update:
            given = int(update["update_id"])
            self._update_ids = itertools.count(max(given + 1, next(self._update_ids)))
        else:
            update = {"update_id": next(self._update_ids), **update}
        self.injected_updates.append(update)
        if self._webhook_url:
            if self._is_allowed(update):
                async with self._delivery_lock:
                    await self._deliver(update, secret_token)
        else:
            self._queue.append(update)
        self._bump()
        return update

    async def send_text(
        self,
        user_id: int,
        text: str,
        chat_id: int | str | None = None,
        chat_type: str = "private",
        first_name: str | None = None,
        username: str | None = None,
        message_thread_id: int | None = None,
        language_code: str | None = "en",
        *,
        last_name: str | None = None,
        reply_to_message_id: int | None = None,
        entities: list[JSON] | None = None,
        secret_token: SecretArg = REGISTERED_SECRET,
    ) -> JSON:
        """A user sends a text message; "/cmd" text gets a bot_command entity like Telegram."""
        content: JSON = {"text": text}
        if entities is None:
            match = _COMMAND_RE.match(text)
            entities = (
                [{"type": "bot_command", "offset": 0, "length": _utf16_len(match.group())}] if match else []
            )
        if entities:
            content["entities"] = entities
        message = self._user_message(
            user_id,
            content,
            chat_id=chat_id,
            chat_type=chat_type,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            message_thread_id=message_thread_id,
            reply_to_message_id=reply_to_message_id,
        )
        return await self.add_update({"message": message}, secret_token=secret_token)

    async def send_edited_text(
        self,
        user_id: int,
        message_id: int,
        text: str,
        chat_id: int | str | None = None,
        chat_type: str = "private",
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        *,
        secret_token: SecretArg = REGISTERED_SECRET,
    ) -> JSON:
        """A user edits one of their messages (``edited_message`` update)."""
        user = self._remember_user(user_id, first_name, None, username, language_code)
        target = chat_id if chat_id is not None else user_id
        chat = self._chat_for(target, chat_type, user)
        now = int(time.time())
        stored = self._messages.get((target, message_id))
        message: JSON = (
            dict(stored)
            if stored
            else {
                "message_id": message_id,
                "from": user,
                "chat": chat,
                "date": now - 60,
            }
        )
        message["edit_date"] = now
        if "text" not in message and "caption" in message:
            message["caption"] = text  # editing a media message changes its caption
        else:
            message["text"] = text
            match = _COMMAND_RE.match(text)
            message.pop("entities", None)
            if match:
                length = _utf16_len(match.group())
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        self._messages[(target, message_id)] = message
        return await self.add_update({"edited_message": message}, secret_token=secret_token)

    async def press_button(
        self,
        user_id: int,
        data: str,
        message_id: int,
        chat_id: int | str | None = None,
        *,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        inaccessible: bool = False,
        secret_token: SecretArg = REGISTERED_SECRET,
    ) -> JSON:
        """A user presses an inline button on ``message_id``.

        If the bot sent that message, the callback carries its current state; otherwise a
        plausible bot message is invented (editing it then fails: stale-button tests).
        ``inaccessible=True`` sends an InaccessibleMessage (date 0) like for old messages.
        """
        user = self._remember_user(user_id, first_name, None, username, language_code)
        target = chat_id if chat_id is not None else user_id
        chat_type = "private" if target == user_id else "supergroup"
        chat = self._chat_for(target, chat_type, user)
        message: JSON
        if inaccessible:
            message = {"chat": chat, "message_id": message_id, "date": 0}
        elif (target, message_id) in self._messages:
            message = _clone(self._messages[(target, message_id)])
        else:
            message = {
                "message_id": message_id,
                "from": dict(self.bot_user),
                "chat": chat,
                "date": int(time.time()) - 3600,
                "text": "(message unknown to FakeTelegram)",
            }
        query_id = str(next(self._callback_ids))
        self._callback_queries.add(query_id)
        query: JSON = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": f"{abs(hash(('chat', target))) % 10**18}",
            "data": data,
        }
        return await self.add_update({"callback_query": query}, secret_token=secret_token)

    async def send_sticker(
        self,
        user_id: int,
        emoji: str = "👍",
        chat_id: int | str | None = None,
        chat_type: str = "private",
        *,
        set_name: str | None = "TestStickers",
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        message_thread_id: int | None = None,
        secret_token: SecretArg = REGISTERED_SECRET,
    ) -> JSON:
        """A user sends a (static, regular) sticker."""
        stored = self._new_file(b"RIFF-fake-webp", "stickers", "webp")
        sticker: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(stored.data),
        }
        if set_name:
            sticker["set_name"] = set_name
        message = self._user_message(
            user_id,
            {"sticker": sticker},
            chat_id=chat_id,
            chat_type=chat_type,
            first_name=first_name,
            username=username,
            language_code=language_code,
            message_thread_id=message_thread_id,
        )
        return await self.add_update({"message": message}, secret_token=secret_token)

    async def send_content(
        self,
        user_id: int,
        content: JSON,
        chat_id: int | str | None = None,
        chat_type: str = "private",
        *,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        message_thread_id: int | None = None,
        secret_token: SecretArg = REGISTERED_SECRET,
    ) -> JSON:
        """A user sends a message with any content (a contact, a document, a story, a forward, ...)."""
        message = self._user_message(
            user_id,
            content,
            chat_id=chat_id,
            chat_type=chat_type,
            first_name=first_name,
            username=username,
            language_code=language_code,
            message_thread_id=message_thread_id,
        )
        return await self.add_update({"message": message}, secret_token=secret_token)

    async def send_photo(
        self,
        user_id: int,
        caption: str | None = None,
        chat_id: int | str | None = None,
        chat_type: str = "private",
        *,
        data: bytes = b"\xff\xd8\xff fake jpeg",
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        message_thread_id: int | None = None,
        secret_token: SecretArg = REGISTERED_SECRET,
    ) -> JSON:
        """A user sends a photo (three PhotoSizes; the largest is downloadable via getFile)."""
        sizes = []
        for side in (90, 320, 800):
            stored = self._new_file(data, "photos", "jpg")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": side,
                    "height": side,
                    "file_size": len(data),
                }
            )
        content: JSON = {"photo": sizes}
        if caption:
            content["caption"] = caption
        message = self._user_message(
            user_id,
            content,
            chat_id=chat_id,
            chat_type=chat_type,
            first_name=first_name,
            username=username,
            language_code=language_code,
            message_thread_id=message_thread_id,
        )
        return await self.add_update({"message": message}, secret_token=secret_token)

    async def send_voice(
        self,
        user_id: int,
        duration: int = 3,
        chat_id: int | str | None = None,
        chat_type: str = "private",
        *,
        data: bytes = b"OggS fake opus",
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        message_thread_id: int | None = None,
        secret_token: SecretArg = REGISTERED_SECRET,
    ) -> JSON:
        """A user sends a voice note."""
        stored = self._new_file(data, "voice", "oga")
        voice: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(data),
        }
        message = self._user_message(
            user_id,
            {"voice": voice},
            chat_id=chat_id,
            chat_type=chat_type,
            first_name=first_name,
            username=username,
            language_code=language_code,
            message_thread_id=message_thread_id,
        )
        return await self.add_update({"message": message}, secret_token=secret_token)

    async def send_location(
        self,
        user_id: int,
        latitude: float = 52.52,
        longitude: float = 13.405,
        chat_id: int | str | None = None,
        chat_type: str = "private",
        *,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        message_thread_id: int | None = None,
        secret_token: SecretArg = REGISTERED_SECRET,
    ) -> JSON:
        """A user shares a location."""
        message = self._user_message(
            user_id,
            {"location": {"latitude": latitude, "longitude": longitude}},
            chat_id=chat_id,
            chat_type=chat_type,
            first_name=first_name,
            username=username,
            language_code=language_code,
            message_thread_id=message_thread_id,
        )
        return await self.add_update({"message": message}, secret_token=secret_token)

    # ------------------------------------------------------------------ model helpers

    def _remember_user(
        self,
        user_id: int,
        first_name: str | None,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> JSON:
        user = dict(self._users.get(user_id, {"id": user_id, "is_bot": False, "first_name": "Test"}))
        if first_name is not None:
            user["first_name"] = first_name
        if last_name is not None:
            user["last_name"] = last_name
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        self._users[user_id] = user
        return dict(user)

    def _chat_for(self, chat_id: int | str, chat_type: str, user: JSON | None = None) -> JSON:
        if chat_id in self._chats:
            return dict(self._chats[chat_id])
        if chat_type == "private":
            known = user or self._users.get(chat_id if isinstance(chat_id, int) else 0) or {}
            chat: JSON = {
                "id": chat_id,
                "type": "private",
                "first_name": known.get("first_name", f"User{chat_id}"),
            }
            for key in ("last_name", "username"):
                if key in known:
                    chat[key] = known[key]
            return chat
        return self.register_chat(chat_id, chat_type)

    def _chat(self, chat_id: int | str) -> JSON:
        """Chat object for a chat the bot addresses (unknown ids are assumed to exist)."""
        if chat_id in self._chats:
            return dict(self._chats[chat_id])
        if isinstance(chat_id, int) and chat_id > 0:
            return self._chat_for(chat_id, "private")
        if isinstance(chat_id, str):
            return self.register_chat(chat_id, "channel", username=chat_id.lstrip("@"))
        return self.register_chat(chat_id, "supergroup")

    def _next_message_id(self, chat_id: int | str) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _user_message(
        self,
        user_id: int,
        content: JSON,
        *,
        chat_id: int | str | None,
        chat_type: str,
        first_name: str | None,
        username: str | None,
        language_code: str | None,
        message_thread_id: int | None,
        last_name: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSON:
        user = self._remember_user(user_id, first_name, last_name, username, language_code)
        if chat_id is None:
            if chat_type != "private":
                raise ValueError(f"chat_id is required for {chat_type} chats")
            chat_id = user_id
        if message_thread_id is not None and chat_type == "supergroup":
            forum = self._chat_for(chat_id, chat_type)
            forum["is_forum"] = True
            self._chats[chat_id] = forum
        chat = self._chat_for(chat_id, chat_type, user)
        message: JSON = {
            "message_id": self._next_message_id(chat_id),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
        }
        if message_thread_id is not None:
            message["message_thread_id"] = message_thread_id
            message["is_topic_message"] = True
        if reply_to_message_id is not None:
            message["reply_to_message"] = self._reply_snapshot(chat_id, reply_to_message_id)
        message.update(content)
        self._messages[(chat_id, message["message_id"])] = message
        return _clone(message)

    def _reply_snapshot(self, chat_id: int | str, message_id: int) -> JSON:
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            return {
                "message_id": message_id,
                "chat": self._chat(chat_id),
                "date": int(time.time()) - 60,
                "text": "(message unknown to FakeTelegram)",
            }
        snapshot = _clone(stored)
        snapshot.pop("reply_to_message", None)
        return dict(snapshot)

    def _topic(self, chat_id: int | str, thread_id: int) -> Topic:
        key = (chat_id, thread_id)
        if key not in self._topics:
            self._topics[key] = Topic(chat_id, thread_id, name=f"Topic {thread_id}")
        return self._topics[key]

    def _purge_thread(self, chat_id: int | str, thread_id: int) -> None:
        for key in [
            k
            for k, m in self._messages.items()
            if k[0] == chat_id and m.get("message_thread_id") == thread_id
        ]:
            del self._messages[key]

    def _check_thread(self, chat_id: int | str, thread_id: int | None) -> None:
        if thread_id is None:
            return
        topic = self._topics.get((chat_id, thread_id))
        if topic is None:
            return
        if topic.deleted:
            raise ApiError(400, "Bad Request: message thread not found")
        if topic.locked:
            raise ApiError(400, "Bad Request: TOPIC_CLOSED")

    def _new_file(self, data: bytes, folder: str, extension: str) -> _StoredFile:
        n = next(self._file_ids)
        stored = _StoredFile(
            file_id=f"FAKE{folder[:2].upper()}{n:06d}{secrets.token_hex(6)}",
            file_unique_id=f"U{n:06d}",
            file_path=f"{folder}/file_{n}.{extension}",
            data=data,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _is_allowed(self, update: JSON) -> bool:
        kind = _update_type(update)
        if self._allowed_updates is None:
            return kind not in _OPT_IN_UPDATE_TYPES
        return kind in self._allowed_updates

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope_obj = scope if isinstance(scope, dict) and scope else {"type": "default"}
        return json.dumps(scope_obj, sort_keys=True), str(language_code or "")

    def _canonical(self, method: str) -> str:
        entry = self._methods.get(method.lower())
        return entry[0] if entry else method

    # ------------------------------------------------------------------ HTTP layer

    async def _read_params(self, request: web.Request) -> JSON:
        params: JSON = {}
        for key, value in request.query.items():
            params[key] = _decode_form_value(key, value)
        if request.content_type == "application/json":
            body = await request.json() if request.can_read_body else {}
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: JSON object expected")
            for key, value in body.items():
                if key in _JSON_PARAMS and isinstance(value, str):
                    with contextlib.suppress(ValueError):
                        value = json.loads(value)
                params[key] = value
        elif request.can_read_body:
            form = await request.post()
            for key, item in form.items():
                if isinstance(item, web.FileField):
                    params[key] = UploadedFile(
                        filename=item.filename,
                        content_type=item.content_type,
                        data=item.file.read(),
                    )
                elif isinstance(item, str):
                    params[key] = _decode_form_value(key, item)
                else:
                    params[key] = _decode_form_value(key, bytes(item).decode())
        return params

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method_name = request.match_info["method"]
        entry = self._methods.get(method_name.lower())
        method = entry[0] if entry else method_name
        try:
            params = await self._read_params(request)
        except (ValueError, ApiError) as exc:
            params = {}
            error = exc if isinstance(exc, ApiError) else ApiError(400, "Bad Request: bad body")
            return self._finish(method, params, error.status, error.payload())

        if token != self.token:
            error = ApiError(401, "Unauthorized")
            return self._finish(method, params, 401, error.payload())
        if entry is None:
            error = ApiError(404, "Not Found: method not found")
            return self._finish(method, params, 404, error.payload())

        fault = self._take_fault(method, params)
        if fault is not None and fault.error is None and not fault.stall:
            at = asyncio.get_running_loop().time()
            self.calls.append(Call(method, params, 0, {"description": "connection reset"}, at))
            self._bump()
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPInternalServerError()  # never written: the connection is gone
        try:
            if fault is not None and fault.error is not None:
                raise fault.error
            if method in _CHAT_TARGETING_METHODS and params.get("chat_id") in self._blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            result = await entry[1](params)
        except ApiError as exc:
            status, payload = exc.status, exc.payload()
        except Exception as exc:  # a bug in the fake: surface it in tg.calls, not as a bare 500
            error = ApiError(500, f"Internal Server Error: FakeTelegram {type(exc).__name__}: {exc}")
            status, payload = 500, error.payload()
        else:
            status, payload = 200, {"ok": True, "result": result}
            description = _SUCCESS_DESCRIPTIONS.get(method)
            if description:
                payload["description"] = description
        delay = self._delays.get(method) or self._delays.get(None)
        response = self._finish(method, params, status, payload)
        if fault is not None and fault.stall:
            await asyncio.sleep(fault.stall)
        if delay is not None:
            if delay.remaining is not None:
                delay.remaining -= 1
                if delay.remaining <= 0:
                    self._delays = {k: v for k, v in self._delays.items() if v is not delay}
            await asyncio.sleep(delay.seconds)
        return response

    def _finish(self, method: str, params: JSON, status: int, payload: JSON) -> web.Response:
        loop = asyncio.get_running_loop()
        self.calls.append(Call(method, params, status, payload, loop.time()))
        self._bump()
        return web.json_response(payload, status=status)

    def _take_fault(self, method: str, params: JSON) -> _Fault | None:
        for fault in self._faults:
            if fault.method != method:
                continue
            if fault.chat_id is not None and params.get("chat_id") != fault.chat_id:
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            return fault
        return None

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _deliver(self, update: JSON, secret_token: SecretArg) -> WebhookDelivery:
        """POST one update to the webhook (caller holds the delivery lock)."""
        secret = self._webhook_secret if secret_token is REGISTERED_SECRET else secret_token
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        url = self._webhook_url
        status: int | None = None
        error: str | None = None
        assert self._session is not None, "FakeTelegram is not started"
        try:
            async with self._session.post(url, json=update, headers=headers) as resp:
                status = resp.status
                await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivery = WebhookDelivery(int(update["update_id"]), url, status, secret, error)
        self.webhook_deliveries.append(delivery)
        if not delivery.ok:
            reason = error or f"Wrong response from the webhook: {status}"
            self._webhook_last_error = (int(time.time()), reason)
        self._bump()
        return delivery

    async def _flush_pending(self) -> None:
        """Deliver updates queued before setWebhook; PTB sets the webhook before it listens."""
        async with self._delivery_lock:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 5.0
            while self._queue and self._webhook_url and not self._closing:
                update = self._queue[0]
                if not self._is_allowed(update):
                    self._queue.pop(0)
                    continue
                delivery = await self._deliver(update, REGISTERED_SECRET)
                if delivery.status is None and loop.time() < deadline:
                    self.webhook_deliveries.remove(delivery)
                    await asyncio.sleep(0.02)  # webhook server not listening yet
                    continue
                self._queue.pop(0)
            self._bump()

    # ------------------------------------------------------------------ Bot API methods

    def _builtin_methods(self) -> dict[str, MethodHandler]:
        return {
            "getMe": self._m_get_me,
            "getUpdates": self._m_get_updates,
            "setWebhook": self._m_set_webhook,
            "deleteWebhook": self._m_delete_webhook,
            "getWebhookInfo": self._m_get_webhook_info,
            "sendMessage": self._m_send_message,
            "editMessageText": self._m_edit_message_text,
            "editMessageReplyMarkup": self._m_edit_message_reply_markup,
            "editMessageCaption": self._m_edit_message_caption,
            "deleteMessage": self._m_delete_message,
            "answerCallbackQuery": self._m_answer_callback_query,
            "setMyCommands": self._m_set_my_commands,
            "getMyCommands": self._m_get_my_commands,
            "deleteMyCommands": self._m_delete_my_commands,
            "copyMessage": self._m_copy_message,
            "forwardMessage": self._m_forward_message,
            "sendChatAction": self._m_send_chat_action,
            "sendPhoto": self._m_send_photo,
            "getFile": self._m_get_file,
            "createForumTopic": self._m_create_forum_topic,
            "editForumTopic": self._m_edit_forum_topic,
            "closeForumTopic": self._m_close_forum_topic,
            "reopenForumTopic": self._m_reopen_forum_topic,
            "deleteForumTopic": self._m_delete_forum_topic,
            "pinChatMessage": self._m_pin_chat_message,
            "unpinChatMessage": self._m_true,
            "close": self._m_true,
            "logOut": self._m_true,
        }

    async def _m_true(self, params: JSON) -> bool:
        return True

    async def _m_get_me(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_get_updates(self, params: JSON) -> list[JSON]:
        if self._webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int(params.get("offset"), 0)
        if offset > 0:
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
        elif offset < 0:
            self._queue = self._queue[offset:]
        limit = min(max(_int(params.get("limit"), 100), 1), 100)
        try:
            timeout = max(float(params.get("timeout") or 0), 0.0)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: invalid timeout") from None
        if "allowed_updates" in params:
            self._set_allowed_updates(params["allowed_updates"])

        def ready() -> list[JSON] | None:
            self._queue = [u for u in self._queue if self._is_allowed(u)]
            if self._queue:
                return self._queue[:limit]
            if self._closing or self._webhook_url:
                return []
            return None

        immediate = ready()
        if immediate is not None or timeout <= 0:
            return immediate or []
        self._polls_waiting += 1
        self._bump()
        try:
            return await self._wait_state(ready, timeout) or []
        finally:
            self._polls_waiting -= 1
            self._bump()

    def _set_allowed_updates(self, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, str):
            value = json.loads(value) if value else []
        if not isinstance(value, list):
            raise ApiError(400, "Bad Request: can't parse allowed updates")
        self._allowed_updates = [str(v) for v in value] or None

    async def _m_set_webhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.match(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._queue.clear()
        if "allowed_updates" in params:
            self._set_allowed_updates(params["allowed_updates"])
        self._webhook_url = url
        self._webhook_secret = str(secret) if url and secret is not None else None
        self._webhook_max_connections = _int(params.get("max_connections"), 40)
        self._webhook_last_error = None
        if url and self._queue:
            task = asyncio.get_running_loop().create_task(self._flush_pending())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        self._bump()
        return True

    async def _m_delete_webhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates"):
            self._queue.clear()
        self._webhook_url = ""
        self._webhook_secret = None
        self._bump()
        return True

    async def _m_get_webhook_info(self, params: JSON) -> JSON:
        info: JSON = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self._webhook_url:
            info["max_connections"] = self._webhook_max_connections
            info["ip_address"] = "127.0.0.1"
            if self._webhook_last_error:
                info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        if self._allowed_updates is not None:
            info["allowed_updates"] = list(self._allowed_updates)
        return info

    # -- messages

    def _chat_id(self, params: JSON, key: str = "chat_id") -> int | str:
        value = params.get(key)
        if value is None or value == "":
            raise ApiError(400, f"Bad Request: {key} is empty")
        if isinstance(value, bool):
            raise ApiError(400, "Bad Request: chat not found")
        if isinstance(value, int):
            return value
        text = str(value)
        try:
            return int(text)
        except ValueError:
            if not text.startswith("@"):
                raise ApiError(400, "Bad Request: chat not found") from None
            return text

    def _format(self, text: str, parse_mode: Any, entities: Any) -> tuple[str, list[JSON]]:
        mode = str(parse_mode or "").lower()
        if mode == "html":
            return _HtmlToEntities(text).finish()
        if mode not in ("", "markdown", "markdownv2"):
            raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode}")
        return text, list(entities) if isinstance(entities, list) else []

    def _inline_markup(self, markup: Any) -> JSON | None:
        """Validate reply_markup; return it only if it is an inline keyboard (as Telegram does)."""
        if markup is None or markup == "":
            return None
        if isinstance(markup, str):
            try:
                markup = json.loads(markup)
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object") from None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None  # reply keyboards / ForceReply / remove are not echoed in Message
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ApiError(
                400,
                'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup '
                "should be an Array of Arrays",
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise ApiError(400, 'Bad Request: can\'t find field "text"')
                actions = [k for k in button if k != "text"]
                if not actions:
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard",
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return {"inline_keyboard": rows}

    def _bot_message(
        self,
        chat_id: int | str,
        params: JSON,
        content: JSON,
        *,
        reply_markup: JSON | None,
    ) -> JSON:
        """Create and store a message sent by the bot, honouring threads and replies."""
        thread_id = params.get("message_thread_id")
        thread = _int(thread_id, 0) or None
        reply_to: JSON | None = None
        reply_params = params.get("reply_parameters")
        reply_id = params.get("reply_to_message_id")
        allow_without = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply_params, dict):
            reply_id = reply_params.get("message_id")
            allow_without = bool(reply_params.get("allow_sending_without_reply", allow_without))
            if reply_params.get("chat_id") not in (None, chat_id):
                reply_id = None  # cross-chat replies are not modelled
        if reply_id is not None:
            stored = self._messages.get((chat_id, _int(reply_id, 0)))
            if stored is None:
                if not allow_without:
                    raise ApiError(400, "Bad Request: message to be replied not found")
            else:
                reply_to = self._reply_snapshot(chat_id, _int(reply_id, 0))
                if thread is None and stored.get("is_topic_message"):
                    thread = stored.get("message_thread_id")  # replies stay in the topic
        self._check_thread(chat_id, thread)
        message: JSON = {
            "message_id": self._next_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
        }
        if thread is not None:
            message["message_thread_id"] = thread
            message["is_topic_message"] = True
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        if reply_markup is not None:
            message["reply_markup"] = reply_markup
        self._messages[(chat_id, message["message_id"])] = message
        return _clone(message)

    async def _m_send_message(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        plain, entities = self._format(text, params.get("parse_mode"), params.get("entities"))
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(plain) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        content: JSON = {"text": plain}
        if entities:
            content["entities"] = entities
        markup = self._inline_markup(params.get("reply_markup"))
        return self._bot_message(chat_id, params, content, reply_markup=markup)

    def _editable(self, params: JSON) -> tuple[int | str, int, JSON] | None:
        """Find the bot message an edit* call targets; None for inline messages."""
        if params.get("inline_message_id"):
            return None
        chat_id = self._chat_id(params)
        message_id = _int(params.get("message_id"), 0)
        if not message_id:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if stored.get("from", {}).get("id") != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat_id, message_id, stored

    async def _m_edit_message_text(self, params: JSON) -> JSON | bool:
        target = self._editable(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        plain, entities = self._format(text, params.get("parse_mode"), params.get("entities"))
        if len(plain) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        markup = self._inline_markup(params.get("reply_markup"))
        if target is None:
            return True
        _, _, stored = target
        if "text" not in stored:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        if (
            stored["text"] == plain
            and stored.get("entities", []) == entities
            and stored.get("reply_markup") == markup
        ):
            raise ApiError(400, _NOT_MODIFIED)
        stored["text"] = plain
        _set_or_pop(stored, "entities", entities or None)
        _set_or_pop(stored, "reply_markup", markup)  # omitting reply_markup removes the keyboard
        stored["edit_date"] = int(time.time())
        return _clone(stored)

    async def _m_edit_message_reply_markup(self, params: JSON) -> JSON | bool:
        target = self._editable(params)
        markup = self._inline_markup(params.get("reply_markup"))
        if target is None:
            return True
        _, _, stored = target
        if stored.get("reply_markup") == markup:
            raise ApiError(400, _NOT_MODIFIED)
        _set_or_pop(stored, "reply_markup", markup)
        stored["edit_date"] = int(time.time())
        return _clone(stored)

    async def _m_edit_message_caption(self, params: JSON) -> JSON | bool:
        target = self._editable(params)
        caption = str(params.get("caption") or "")
        plain, entities = self._format(caption, params.get("parse_mode"), params.get("caption_entities"))
        markup = self._inline_markup(params.get("reply_markup"))
        if target is None:
            return True
        _, _, stored = target
        if "text" in stored:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        if stored.get("caption", "") == plain and stored.get("reply_markup") == markup:
            raise ApiError(400, _NOT_MODIFIED)
        _set_or_pop(stored, "caption", plain or None)
        _set_or_pop(stored, "caption_entities", entities or None)
        _set_or_pop(stored, "reply_markup", markup)
        stored["edit_date"] = int(time.time())
        return _clone(stored)

    async def _m_delete_message(self, params: JSON) -> bool:
        chat_id = self._chat_id(params)
        key = (chat_id, _int(params.get("message_id"), 0))
        if key not in self._messages:
            raise ApiError(400, "Bad Request: message to delete not found")
        del self._messages[key]
        return True

    async def _m_copy_message(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        from_chat_id = self._chat_id(params, "from_chat_id")
        source = self._messages.get((from_chat_id, _int(params.get("message_id"), 0)))
        if source is None:
            raise ApiError(400, "Bad Request: message to copy not found")
        if any(key in source for key in _SERVICE_KEYS):
            raise ApiError(400, "Bad Request: message can't be copied")
        content = {k: v for k, v in source.items() if k not in _MESSAGE_META_KEYS}
        if "caption" in params and "text" not in content:
            caption, entities = self._format(
                str(params["caption"]), params.get("parse_mode"), params.get("caption_entities")
            )
            _set_or_pop(content, "caption", caption or None)
            _set_or_pop(content, "caption_entities", entities or None)
        markup = self._inline_markup(params.get("reply_markup"))
        message = self._bot_message(chat_id, params, content, reply_markup=markup)
        return {"message_id": message["message_id"]}

    async def _m_forward_message(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        from_chat_id = self._chat_id(params, "from_chat_id")
        source = self._messages.get((from_chat_id, _int(params.get("message_id"), 0)))
        if source is None:
            raise ApiError(400, "Bad Request: message to forward not found")
        content = {k: v for k, v in source.items() if k not in _MESSAGE_META_KEYS}
        sender = source.get("from") or {}
        content["forward_origin"] = {
            "type": "user",
            "sender_user": sender,
            "date": source.get("date", int(time.time())),
        }
        return self._bot_message(chat_id, params, content, reply_markup=None)

    async def _m_send_photo(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        photo = params.get("photo")
        if isinstance(photo, UploadedFile):
            stored = self._new_file(photo.data, "photos", "jpg")
        elif isinstance(photo, str) and photo:
            known = self._files.get(photo)
            if known is None:
                known = _StoredFile(photo, f"U{abs(hash(photo)) % 10**8}", f"photos/{photo}.jpg", b"")
                self._files[photo] = known
                self._files_by_path[known.file_path] = known
            stored = known
        else:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        caption = str(params.get("caption") or "")
        plain, entities = self._format(caption, params.get("parse_mode"), params.get("caption_entities"))
        if len(plain) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        content: JSON = {
            "photo": [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": 800,
                    "height": 800,
                    "file_size": len(stored.data),
                }
            ]
        }
        if plain:
            content["caption"] = plain
        if entities:
            content["caption_entities"] = entities
        if params.get("has_spoiler"):
            content["has_media_spoiler"] = True
        markup = self._inline_markup(params.get("reply_markup"))
        return self._bot_message(chat_id, params, content, reply_markup=markup)

    async def _m_get_file(self, params: JSON) -> JSON:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    async def _m_send_chat_action(self, params: JSON) -> bool:
        chat_id = self._chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self._check_thread(chat_id, _int(params.get("message_thread_id"), 0) or None)
        return True

    async def _m_answer_callback_query(self, params: JSON) -> bool:
        if str(params.get("callback_query_id") or "") not in self._callback_queries:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if len(str(params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _m_pin_chat_message(self, params: JSON) -> bool:
        chat_id = self._chat_id(params)
        if (chat_id, _int(params.get("message_id"), 0)) not in self._messages:
            raise ApiError(400, "Bad Request: message to pin not found")
        return True

    # -- commands

    async def _m_set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _BOT_COMMAND_RE.match(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    async def _m_get_my_commands(self, params: JSON) -> list[JSON]:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return list(self._commands.get(key, []))

    async def _m_delete_my_commands(self, params: JSON) -> bool:
        self._commands.pop(self._commands_key(params.get("scope"), params.get("language_code")), None)
        return True

    # -- forum topics

    def _existing_topic(self, params: JSON) -> Topic:
        chat_id = self._chat_id(params)
        thread_id = _int(params.get("message_thread_id"), 0)
        if not thread_id:
            raise ApiError(400, "Bad Request: message thread not found")
        topic = self._topic(chat_id, thread_id)
        if topic.deleted:
            raise ApiError(400, "Bad Request: message thread not found")
        return topic

    async def _m_create_forum_topic(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise ApiError(
                400, "Bad Request: TOPIC_TITLE_EMPTY" if not name else "Bad Request: TOPIC_TITLE_INVALID"
            )
        color = _int(params.get("icon_color"), _TOPIC_ICON_COLORS[0])
        if color not in _TOPIC_ICON_COLORS:
            raise ApiError(400, "Bad Request: TOPIC_ICON_COLOR_INVALID")
        chat = self._chat(chat_id)
        if chat.get("type") != "private":
            chat["is_forum"] = True
            self._chats[chat_id] = chat
        thread_id = self._next_message_id(chat_id)
        emoji = params.get("icon_custom_emoji_id") or None
        topic = Topic(chat_id, thread_id, name, color, emoji)
        self._topics[(chat_id, thread_id)] = topic
        self._messages[(chat_id, thread_id)] = {
            "message_id": thread_id,
            "from": dict(self.bot_user),
            "chat": dict(chat),
            "date": int(time.time()),
            "message_thread_id": thread_id,
            "is_topic_message": True,
            "forum_topic_created": {"name": name, "icon_color": color},
        }
        return topic.as_forum_topic()

    async def _m_edit_forum_topic(self, params: JSON) -> bool:
        topic = self._existing_topic(params)
        if "name" in params:
            name = str(params["name"] or "")
            if not 1 <= len(name) <= 128:
                raise ApiError(400, "Bad Request: TOPIC_TITLE_INVALID")
            topic.name = name
        if "icon_custom_emoji_id" in params:
            topic.icon_custom_emoji_id = str(params["icon_custom_emoji_id"] or "") or None
        return True

    async def _m_close_forum_topic(self, params: JSON) -> bool:
        topic = self._existing_topic(params)
        if topic.closed:
            raise ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic.closed = True  # the bot (an admin) may still post into topics it closed
        return True

    async def _m_reopen_forum_topic(self, params: JSON) -> bool:
        topic = self._existing_topic(params)
        if not topic.closed:
            raise ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic.closed = False
        topic.locked = False
        return True

    async def _m_delete_forum_topic(self, params: JSON) -> bool:
        topic = self._existing_topic(params)
        topic.deleted = True
        self._purge_thread(topic.chat_id, topic.message_thread_id)
        return True


_SUCCESS_DESCRIPTIONS: Final = {
    "setWebhook": "Webhook was set",
    "deleteWebhook": "Webhook was deleted",
}


def _decode_form_value(name: str, value: str) -> Any:
    """PTB JSON-encodes non-string form values; strings are sent raw."""
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _int(value: Any, default: int) -> int:
    if value is None or value == "" or isinstance(value, bool):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid integer value {value!r}") from None


def _clone(value: JSON) -> JSON:
    """Deep copy via JSON so callers never alias server state."""
    copied: JSON = json.loads(json.dumps(value))
    return copied


def _set_or_pop(target: JSON, key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _arity(func: Callable[..., Any]) -> int:
    """Number of required positional parameters (1 if it cannot be determined)."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return 1
    return sum(
        1
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    )
