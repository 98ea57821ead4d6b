"""Anonymous conversation names such as "Blue Heron 4821" that supporters can say out loud."""

from __future__ import annotations

import hashlib
import hmac

ADJECTIVES = (
    "Amber", "Blue", "Bright", "Calm", "Cedar", "Clear", "Copper", "Coral", "Crimson", "Dawn",
    "Dusky", "Early", "Emerald", "Fern", "Gentle", "Golden", "Green", "Grey", "Hazel", "Indigo",
    "Ivory", "Jade", "Kind", "Late", "Lilac", "Linen", "Maple", "Misty", "Mossy", "Navy",
    "Ochre", "Olive", "Pale", "Pearl", "Pine", "Quiet", "Rain", "Red", "River", "Rose",
    "Rust", "Sage", "Sandy", "Silver", "Slate", "Snowy", "Soft", "Spring", "Steady", "Stone",
    "Storm", "Sunny", "Swift", "Tawny", "Teal", "Tidal", "Velvet", "Violet", "Warm", "White",
    "Wild", "Willow", "Winter", "Young",
)  # fmt: skip
ANIMALS = (
    "Badger", "Bear", "Beaver", "Bison", "Crane", "Crow", "Deer", "Dolphin", "Dove", "Eagle",
    "Egret", "Falcon", "Finch", "Fox", "Gecko", "Goose", "Hare", "Hawk", "Hedgehog", "Heron",
    "Ibis", "Jay", "Kestrel", "Kingfisher", "Koala", "Lark", "Lynx", "Magpie", "Marten", "Mink",
    "Moose", "Moth", "Newt", "Otter", "Owl", "Panda", "Pelican", "Petrel", "Pika", "Plover",
    "Puffin", "Quail", "Raven", "Robin", "Salmon", "Seal", "Shrike", "Sparrow", "Stork", "Swallow",
    "Swan", "Tern", "Thrush", "Tiger", "Toad", "Trout", "Turtle", "Vole", "Walrus", "Whale",
    "Wolf", "Wren", "Yak", "Zebra",
)  # fmt: skip
_CONTEXT = b"peerline:handoff-alias"


def conversation_alias(secret: bytes | str, user: str, conversation: str) -> str:
    """A friendly name for one conversation (`conversation` is its random ticket) of a hashed user key.

    Per conversation, not per person: a person who comes back, after /forget or not, is someone new to the
    supporters. It cannot be turned back into the key without the secret (about 41 million names).
    """
    raw = secret.encode() if isinstance(secret, str) else secret
    message = f"{user}:{conversation}".encode()
    digest = hmac.new(hmac.new(raw, _CONTEXT, hashlib.sha256).digest(), message, hashlib.sha256).digest()
    number = int.from_bytes(digest[2:6], "big") % 10_000
    return f"{ADJECTIVES[digest[0] % len(ADJECTIVES)]} {ANIMALS[digest[1] % len(ANIMALS)]} {number:04d}"
