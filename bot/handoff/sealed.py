"""The person's chat id, sealed with authenticated encryption so a Redis dump never shows it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.errors import PeerlineError

_CONTEXT = b"peerline:handoff-chat-id:v1"
_NONCE_BYTES = 12


class SealBroken(PeerlineError):
    """A sealed chat id could not be opened: another secret, or the stored value was changed."""


class ChatIdSeal:
    """AES-256-GCM with a key derived from `PEERLINE_ID_SECRET`; the user key is the associated data,
    so a sealed id copied onto another person's record does not open."""

    __slots__ = ("_aead",)

    def __init__(self, secret: bytes | str) -> None:
        raw = secret.encode() if isinstance(secret, str) else secret
        self._aead = AESGCM(hmac.new(raw, _CONTEXT, hashlib.sha256).digest())

    def __repr__(self) -> str:
        return "ChatIdSeal(key=<hidden>)"

    def seal(self, chat_id: int, user: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, str(int(chat_id)).encode(), user.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, token: str, user: str) -> int:
        try:
            blob = base64.urlsafe_b64decode(token.encode())
            plain = self._aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], user.encode())
            return int(plain.decode())
        except (InvalidTag, ValueError) as exc:
            raise SealBroken("the stored chat id does not open with this secret") from exc
