"""The getUpdates request, made safe from an update python-telegram-bot can't parse.

PTB parses a `getUpdates` batch as a whole: one update it can't read (a newer or older Bot API than the
installed PTB, a self-hosted server) fails the batch, is logged with its raw data at CRITICAL, and the same
batch is fetched again at once, forever, so nobody else's message (a crisis included) is ever handled.
Here each update of the batch is tried on its own first; one that fails is replaced by an empty update with
the same `update_id`, which no handler matches and which moves the offset past it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from telegram import Update
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

from bot.logs import log_event
from bot.telegram.aiohttp_request import AiohttpRequest

log = logging.getLogger(__name__)


def note_unreadable(update_id: object, error: Exception, chars: int) -> None:
    """Log an update PTB could not parse by its id, the error's type and its size: never its content."""
    log_event(
        log,
        "update_unreadable",
        logging.WARNING,
        update_id=update_id if isinstance(update_id, int) else None,
        error=type(error).__name__,
        chars=chars,
        action="skipped",
    )


def readable_batch(body: bytes) -> bytes:
    """The getUpdates answer with every update PTB can't parse replaced by ``{"update_id": N}``."""
    try:
        data = json.loads(body)
    except ValueError:
        return body  # PTB reports an unreadable answer as a network error (its log line is filtered)
    result = data.get("result") if isinstance(data, dict) and data.get("ok") else None
    if not isinstance(result, list):
        return body
    readable: list[Any] = []
    changed = False
    for item in result:
        try:
            Update.de_json(item, None)
            readable.append(item)
            continue
        except Exception as exc:  # any failure of PTB's parser, which is what would stop polling
            update_id = item.get("update_id") if isinstance(item, dict) else None
            note_unreadable(update_id, exc, len(json.dumps(item)))
        changed = True
        if isinstance(update_id, int):
            readable.append({"update_id": update_id})
    if not changed:
        return body
    return json.dumps({**data, "result": readable}).encode()


class ReadableUpdatesRequest(AiohttpRequest):
    """`AiohttpRequest` for getUpdates: unparseable updates are skipped (see the module's docstring)."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        status, body = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status == 200 and url.endswith("/getUpdates"):
            body = readable_batch(body)
        return status, body
