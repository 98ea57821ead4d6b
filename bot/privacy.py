"""Turning Telegram user ids into keys that can be stored and logged without naming anyone."""

from __future__ import annotations

import hashlib
import hmac

from bot.errors import ConfigError

KEY_HEX_CHARS = 32  # 128 bits: collisions are out of reach even across millions of users
ALIAS_HEX_CHARS = 8


class UserKeys:
    """Derives per-user store keys and log aliases from a deployment secret.

    Raw Telegram ids are never stored: a keyed HMAC (not a plain hash) is used because the id space is
    small enough that anyone with a copy of the store could hash every id and reverse an unkeyed digest.
    """

    __slots__ = ("_alias_secret", "_secret")

    def __init__(self, secret: bytes | str) -> None:
        raw = secret.encode() if isinstance(secret, str) else bytes(secret)
        if not raw:
            raise ConfigError(
                "the secret for hashing Telegram user ids is empty; set it to a long random value "
                "(e.g. the output of `python -c 'import secrets; print(secrets.token_hex(32))'`)"
            )
        self._secret = raw
        # A separate sub-key, so a log alias cannot be matched to a store key without the secret.
        self._alias_secret = hmac.new(raw, b"peerline:log-alias", hashlib.sha256).digest()

    def __repr__(self) -> str:
        return "UserKeys(secret=<hidden>)"

    def key(self, telegram_user_id: int) -> str:
        """The store key for a user: hex HMAC-SHA256 of the id, stable for as long as the secret is."""
        message = str(int(telegram_user_id)).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:KEY_HEX_CHARS]

    def alias(self, key: str) -> str:
        """A short, stable name for a user's key, so log lines correlate without revealing the key."""
        return hmac.new(self._alias_secret, key.encode(), hashlib.sha256).hexdigest()[:ALIAS_HEX_CHARS]
