"""The key ring: every key the bot derives from `PEERLINE_ID_SECRET`, and the only holder of that secret.

What comes from the secret, and how:

- **store keys** (`KeyRing.key`): HMAC-SHA256(secret, telegram id), 128 bits in hex. This is *version 1*
  and kept as it is: sessions, waiting and open handoffs and blocks are stored under these keys, and a
  key cannot be re-derived without the Telegram id, so a new derivation would orphan every record.
- **log aliases** (`KeyRing.log_alias`): HMAC of the store key under an HKDF sub-key, 8 hex characters.
- **conversation names** (`KeyRing.conversation_name`, "Blue Heron 4821"): HMAC of key and ticket
  under an HKDF sub-key. The name is stored with the handoff, so open handoffs keep theirs.
- **the chat-id seal** (`ChatIdSeal`): AES-256-GCM under an HKDF sub-key; the user key is the associated
  data. A sealed value starts with a version byte (`SEAL_VERSION`).

Each HKDF sub-key has its own `info` label, so no two uses share a key and none can be worked back to the
secret or to each other.

Reading values sealed before the key ring: they carry no version byte and were sealed under
HMAC-SHA256(secret, "peerline:handoff-chat-id:v1"); `ChatIdSeal.open` still opens them (AES-GCM's tag
tells a wrong guess apart, so trying both forms is safe).

Rotating the secret: build the ring as `KeyRing(new, previous=old)`. New seals use the new secret;
`open` also tries the previous secret's keys, so chat ids sealed before the switch still open while their
handoffs last; drop `previous` once they have closed. Store keys, log aliases and names follow the new
secret, so sessions, waiting handoffs and blocks start over: the ids behind the old keys are unknowable by
design (that is why the settings say never to change it). `previous` is not a setting yet: a deployment
that needs it adds `PEERLINE_ID_SECRET_PREVIOUS` to `bot/config.py` and passes it here. A later change of
the seal's derivation or cipher takes the next version byte and keeps opening this one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.errors import ConfigError, PeerlineError
from bot.handoff.names import name_from_digest

KEY_HEX_CHARS = 32  # 128 bits: collisions are out of reach even across millions of users
LOG_ALIAS_HEX_CHARS = 8
SEAL_VERSION = 2  # 1 is the unversioned form sealed before the key ring
_NONCE_BYTES = 12
_LEGACY_SEAL_CONTEXT = b"peerline:handoff-chat-id:v1"
_HINT = "(e.g. the output of `python -c 'import secrets; print(secrets.token_hex(32))'`)"


class SealBroken(PeerlineError):
    """A sealed chat id could not be opened: another secret, or the stored value was changed."""


def _raw(secret: bytes | str) -> bytes:
    raw = secret.encode() if isinstance(secret, str) else bytes(secret)
    if not raw:
        raise ConfigError(
            f"the secret for hashing Telegram user ids is empty; set it to a long random value {_HINT}"
        )
    return raw


def _subkey(raw: bytes, purpose: str) -> bytes:
    """A 256-bit key for one purpose, independent of every other purpose's key."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"peerline/{purpose}".encode())
    return hkdf.derive(raw)


class ChatIdSeal:
    """AES-256-GCM over a person's chat id; the user key is the associated data, so a sealed id copied
    onto another person's record does not open."""

    __slots__ = ("_current", "_openers")

    def __init__(self, current: bytes, openers: tuple[tuple[int, bytes], ...]) -> None:
        """`current` seals; `openers` are (version, key) pairs tried in turn when opening."""
        self._current = AESGCM(current)
        self._openers = tuple((version, AESGCM(key)) for version, key in openers)

    def __repr__(self) -> str:
        return "ChatIdSeal(key=<hidden>)"

    def seal(self, chat_id: int, user: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._current.encrypt(nonce, str(int(chat_id)).encode(), user.encode())
        return base64.urlsafe_b64encode(bytes([SEAL_VERSION]) + nonce + sealed).decode()

    def open(self, token: str, user: str) -> int:
        try:
            blob = base64.urlsafe_b64decode(token.encode())
        except ValueError as exc:
            raise SealBroken("the stored chat id is not a sealed value") from exc
        for version, aead in self._openers:
            if version == 1:
                body = blob  # version 1 carried no version byte
            elif blob[:1] == bytes([version]):
                body = blob[1:]
            else:
                continue
            try:
                return int(aead.decrypt(body[:_NONCE_BYTES], body[_NONCE_BYTES:], user.encode()).decode())
            except (InvalidTag, ValueError):
                continue
        raise SealBroken("the stored chat id does not open with this secret")


class KeyRing:
    """Store keys, log aliases, conversation names and the chat-id seal, all from `PEERLINE_ID_SECRET`.

    Raw Telegram ids are never stored: a keyed HMAC (not a plain hash) is used because the id space is
    small enough that anyone with a copy of the store could hash every id and reverse an unkeyed digest.
    `previous` is the secret before a rotation, kept only to open chat ids sealed under it.
    """

    __slots__ = ("_alias_key", "_name_key", "_store_secret", "seal")

    def __init__(self, secret: bytes | str, *, previous: bytes | str | None = None) -> None:
        raw = _raw(secret)
        self._store_secret = raw  # version 1 store keys: see the module docstring
        self._alias_key = _subkey(raw, "log-alias/v2")
        self._name_key = _subkey(raw, "conversation-name/v2")
        secrets = (raw,) if previous is None else (raw, _raw(previous))
        sealing = [(SEAL_VERSION, _subkey(each, f"chat-id-seal/v{SEAL_VERSION}")) for each in secrets]
        legacy = [(1, hmac.new(each, _LEGACY_SEAL_CONTEXT, hashlib.sha256).digest()) for each in secrets]
        self.seal = ChatIdSeal(sealing[0][1], (*sealing, *legacy))

    def __repr__(self) -> str:
        return "KeyRing(secret=<hidden>)"

    def key(self, telegram_user_id: int) -> str:
        """The store key for a user: hex HMAC-SHA256 of the id, stable for as long as the secret is."""
        message = str(int(telegram_user_id)).encode()
        return hmac.new(self._store_secret, message, hashlib.sha256).hexdigest()[:KEY_HEX_CHARS]

    def log_alias(self, key: str) -> str:
        """A short, stable name for a store key, so log lines correlate without revealing the key."""
        return hmac.new(self._alias_key, key.encode(), hashlib.sha256).hexdigest()[:LOG_ALIAS_HEX_CHARS]

    def conversation_name(self, user: str, conversation: str) -> str:
        """The name supporters see for one conversation (`conversation` is its random ticket) of a user key.

        Per conversation, not per person: a person who comes back, after /forget or not, is someone new to
        the supporters. It cannot be turned back into the key without the secret (about 41 million names).
        """
        digest = hmac.new(self._name_key, f"{user}:{conversation}".encode(), hashlib.sha256).digest()
        return name_from_digest(digest)
