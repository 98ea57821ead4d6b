"""Logging for the bot: key=value or JSON lines, chatty libraries quietened, secrets redacted.

Log lines carry an alias (`KeyRing.log_alias`), never message text, a raw user id, a name, a username or the
token. Three defences keep it that way: libraries that log requests or update contents (httpx, httpcore,
python-telegram-bot at DEBUG) are held above those levels; a `DropRawUpdates` filter replaces the records
python-telegram-bot logs at CRITICAL/ERROR with the raw data of an update it could not parse; and a
`RedactSecrets` filter on the root handlers blanks the token and other secrets from any record that still
carries one.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO

REDACTED = "[redacted]"
FIELDS_ATTR = "peerline_fields"

# Loggers that would leak: httpx logs every request URL (with the token) at INFO; PTB logs update
# contents and request parameters (message text, names) at DEBUG.
QUIET_LOGGERS: dict[str, int] = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,
    "telegram.ext": logging.INFO,
    "tornado.access": logging.WARNING,
    "hpack": logging.WARNING,
}

_KV_RE = re.compile(r'(\w+)=("[^"]*"|\S*)')
# What python-telegram-bot logs, at CRITICAL or ERROR, with the raw data of an update it could not parse
# (the text, ids, names and usernames in it): such records are replaced by their kind and size.
RAW_DATA_MARKERS = ("Received data", "Can not load invalid JSON data", "Webhook received data")


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: object) -> None:
    """Log one structured event: ``event=NAME k=v ...`` as text, or the same keys as a JSON object."""
    if not logger.isEnabledFor(level):
        return
    pairs = " ".join(f"{key}={_text_value(value)}" for key, value in fields.items())
    message = f"event={event} {pairs}".rstrip()
    logger.log(level, message, extra={FIELDS_ATTR: {"event": event, **fields}})


def _text_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.1f}"
    text = str(value)
    return f'"{text}"' if (" " in text or not text) else text


class RedactSecrets(logging.Filter):
    """Replaces every secret in a record's message, arguments and traceback with ``[redacted]``.

    Attach it to handlers (not loggers): handler filters see records from every logger that propagates.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a token is redacted whole before its secret half is looked for.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        fields = getattr(record, FIELDS_ATTR, None)
        if isinstance(fields, dict):
            setattr(record, FIELDS_ATTR, {k: self._redact_value(v) for k, v in fields.items()})
        return True

    def _redact_value(self, value: Any) -> Any:
        return self.redact(value) if isinstance(value, str) else value


class DropRawUpdates(logging.Filter):
    """Replaces a library record that carries a raw update with ``event=update_unreadable`` and its size.

    Whatever Telegram or a self-hosted Bot API server sends, the text of a message must not reach a log:
    the record keeps only the logger, the exception's type and how many characters the data had.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("telegram") or not any(m in str(record.msg) for m in RAW_DATA_MARKERS):
            return True
        chars = sum(len(str(arg)) for arg in (record.args if isinstance(record.args, tuple) else ()))
        error = type(record.exc_info[1]).__name__ if record.exc_info and record.exc_info[1] else "-"
        fields = {"event": "update_unreadable", "source": record.name, "error": error, "chars": chars}
        record.msg = " ".join(f"{k}={v}" for k, v in fields.items())
        record.args = None
        # The traceback's last line can quote a value from the update: only the type is kept.
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        setattr(record, FIELDS_ATTR, fields)
        return True


class TextFormatter(logging.Formatter):
    """``2024-05-01T12:00:00Z INFO bot.telegram event=update alias=1a2b3c4d ...``"""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, then the event's fields (or ``message``)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname,
            "logger": record.name,
        }
        fields = getattr(record, FIELDS_ATTR, None)
        message = record.getMessage()
        if isinstance(fields, dict):
            data.update(fields)
        elif message.startswith("event="):
            # Modules that log plain "event=x k=v" strings still come out as fields.
            data.update({k: v.strip('"') for k, v in _KV_RE.findall(message)})
        else:
            data["message"] = message
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["traceback"] = record.exc_text
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging(
    level: str = "INFO",
    log_format: str = "text",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send logs to `stream` (stderr) in the chosen format; returns the handler, e.g. for tests to remove.

    Replaces a handler this function installed before, and leaves other handlers (pytest's) alone.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "peerline", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.peerline = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(DropRawUpdates())
    handler.addFilter(RedactSecrets(secrets))
    root.addHandler(handler)
    root.setLevel(level)
    numeric = logging.getLevelName(level)
    for name, floor in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(floor, numeric if isinstance(numeric, int) else logging.INFO))
    return handler
