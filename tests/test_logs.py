"""Logging: structured lines, secrets redacted wherever they turn up, chatty libraries held back."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import QUIET_LOGGERS, REDACTED, configure_logging, log_event

TOKEN = "123456:AAHsecretpartOFthetoken_xyz"


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    level = root.level
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    stream = io.StringIO()
    yield stream
    for handler in [h for h in root.handlers if getattr(h, "peerline", False)]:
        root.removeHandler(handler)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def test_the_token_is_redacted_from_messages_arguments_and_tracebacks(output: io.StringIO) -> None:
    configure_logging("DEBUG", secrets=(TOKEN, TOKEN.partition(":")[2]), stream=output)
    log = logging.getLogger("peerline.test")
    log.warning("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    log.warning("url-encoded: bot123456%%3A%s", TOKEN.partition(":")[2])
    try:
        raise RuntimeError(f"request to /bot{TOKEN}/sendMessage failed")
    except RuntimeError:
        log.exception("event=send_failed")
    text = output.getvalue()
    assert TOKEN.partition(":")[2] not in text
    assert text.count(REDACTED) == 3


def test_libraries_that_log_urls_or_update_contents_stay_quiet_even_at_debug(output: io.StringIO) -> None:
    configure_logging("DEBUG", stream=output)
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("httpcore.http11").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("telegram.ext.Application").getEffectiveLevel() == logging.INFO
    assert logging.getLogger("telegram.Bot").getEffectiveLevel() == logging.INFO


def test_events_are_key_value_lines_or_json_objects(output: io.StringIO) -> None:
    log = logging.getLogger("peerline.test")
    configure_logging("INFO", "text", stream=output)
    log_event(log, "update", alias="1a2b3c4d", crisis=True, score=91.234, intent=None)
    line = output.getvalue().strip()
    assert line.endswith("INFO peerline.test event=update alias=1a2b3c4d crisis=true score=91.2 intent=-")

    output.truncate(0)
    output.seek(0)
    configure_logging("INFO", "json", stream=output)
    log_event(log, "update", alias="1a2b3c4d", crisis=True, latency_ms=3)
    log.warning("event=session_unreadable action=treated_as_new")
    first, second = (json.loads(line) for line in output.getvalue().splitlines())
    assert first["event"] == "update" and first["crisis"] is True and first["latency_ms"] == 3
    assert first["level"] == "INFO" and first["logger"] == "peerline.test"
    assert second["event"] == "session_unreadable" and second["action"] == "treated_as_new"


def test_configuring_again_replaces_the_handler_instead_of_doubling_lines(output: io.StringIO) -> None:
    configure_logging("INFO", stream=output)
    configure_logging("INFO", stream=output)
    logging.getLogger("peerline.test").info("event=once")
    assert output.getvalue().count("event=once") == 1
