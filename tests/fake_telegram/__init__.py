"""Fake Telegram Bot API server so tests can run the real PTB Application offline."""

from .server import (
    REGISTERED_SECRET,
    SECRET_HEADER,
    SENT_MESSAGE_METHODS,
    ApiError,
    Call,
    FakeTelegram,
    Topic,
    UploadedFile,
    WebhookDelivery,
    free_port,
)

__all__ = [
    "REGISTERED_SECRET",
    "SECRET_HEADER",
    "SENT_MESSAGE_METHODS",
    "ApiError",
    "Call",
    "FakeTelegram",
    "Topic",
    "UploadedFile",
    "WebhookDelivery",
    "free_port",
]
