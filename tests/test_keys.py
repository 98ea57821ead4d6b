"""The key ring: store keys, log aliases, conversation names and the chat-id seal from one secret."""

from __future__ import annotations

import base64
import re

import pytest

from bot.errors import ConfigError
from bot.keys import SEAL_VERSION, KeyRing, SealBroken

SECRET = "a-deployment-secret-0123456789"
OTHER_SECRET = "another-secret-0123456789"
USER = "0123456789abcdef0123456789abcdef"
TELEGRAM_ID = 123_456_789
CHAT_ID = 987_654_321_012_345
# Written by the code before the key ring (bot/privacy.py, bot/handoff/sealed.py) with SECRET.
STORE_KEY_BEFORE_THE_KEY_RING = "70ff49784db84ee6e77591e815597c4e"
SEALED_BEFORE_THE_KEY_RING = "fDTelRPG3BwnsPIYWk93B5m-lLlDP-nGwsd9tK2t5mYsC5OjF4SSkU6vFg=="


def test_store_keys_are_unchanged_by_the_key_ring_so_stored_records_stay_reachable() -> None:
    assert KeyRing(SECRET).key(TELEGRAM_ID) == STORE_KEY_BEFORE_THE_KEY_RING


def test_a_chat_id_sealed_before_the_key_ring_still_opens() -> None:
    assert KeyRing(SECRET).seal.open(SEALED_BEFORE_THE_KEY_RING, STORE_KEY_BEFORE_THE_KEY_RING) == CHAT_ID


def test_a_chat_id_sealed_before_the_key_ring_opens_only_for_its_user_and_secret() -> None:
    with pytest.raises(SealBroken):
        KeyRing(SECRET).seal.open(SEALED_BEFORE_THE_KEY_RING, USER)
    with pytest.raises(SealBroken):
        KeyRing(OTHER_SECRET).seal.open(SEALED_BEFORE_THE_KEY_RING, STORE_KEY_BEFORE_THE_KEY_RING)


def test_sealed_chat_id_starts_with_the_version_byte() -> None:
    token = KeyRing(SECRET).seal.seal(CHAT_ID, USER)
    assert base64.urlsafe_b64decode(token)[0] == SEAL_VERSION


def test_sealed_chat_id_opens_only_for_its_user_and_secret() -> None:
    seal = KeyRing(SECRET).seal
    token = seal.seal(CHAT_ID, USER)
    assert str(CHAT_ID) not in token
    assert seal.open(token, USER) == CHAT_ID
    assert seal.seal(CHAT_ID, USER) != token  # a fresh nonce each time
    with pytest.raises(SealBroken):
        seal.open(token, "f" * 32)  # copied onto another person's record
    with pytest.raises(SealBroken):
        KeyRing(OTHER_SECRET).seal.open(token, USER)
    with pytest.raises(SealBroken):
        seal.open(token[:-4] + "AAAA", USER)
    with pytest.raises(SealBroken):
        seal.open("not base64 at all!", USER)
    assert repr(seal) == "ChatIdSeal(key=<hidden>)"


def test_after_a_rotation_chat_ids_sealed_under_the_previous_secret_still_open() -> None:
    before = KeyRing(OTHER_SECRET)
    sealed_before = before.seal.seal(CHAT_ID, USER)
    rotated = KeyRing(SECRET, previous=OTHER_SECRET)
    assert rotated.seal.open(sealed_before, USER) == CHAT_ID
    assert rotated.seal.open(SEALED_BEFORE_THE_KEY_RING, STORE_KEY_BEFORE_THE_KEY_RING) == CHAT_ID
    # New seals use the new secret only: the old ring cannot open them.
    with pytest.raises(SealBroken):
        before.seal.open(rotated.seal.seal(CHAT_ID, USER), USER)
    assert rotated.key(TELEGRAM_ID) == KeyRing(SECRET).key(TELEGRAM_ID)


def test_conversation_name_is_friendly_per_conversation_and_depends_on_the_secret() -> None:
    ring = KeyRing(SECRET)
    name = ring.conversation_name(USER, "a1b2c3")
    assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+ \d{4}", name)
    assert ring.conversation_name(USER, "a1b2c3") == name
    assert KeyRing(OTHER_SECRET).conversation_name(USER, "a1b2c3") != name
    # The same person's next conversation is someone new to the supporters.
    assert ring.conversation_name(USER, "d4e5f6") != name
    many = {ring.conversation_name(f"{i:032x}", "a1b2c3") for i in range(2000)}
    assert len(many) >= 1990  # clashes are rare


def test_every_use_of_the_secret_gets_its_own_key() -> None:
    ring = KeyRing(SECRET)
    key = ring.key(TELEGRAM_ID)
    assert ring.log_alias(key) not in key
    assert ring.log_alias(key) != KeyRing(OTHER_SECRET).log_alias(key)


def test_empty_secret_is_refused_with_a_hint() -> None:
    for empty in (b"", ""):
        with pytest.raises(ConfigError, match=r"secret.*token_hex"):
            KeyRing(empty)
    with pytest.raises(ConfigError, match="secret"):
        KeyRing(SECRET, previous="")


def test_the_secret_appears_in_no_repr() -> None:
    ring = KeyRing(SECRET)
    for text in (repr(ring), str(ring), repr(ring.seal)):
        assert SECRET not in text
