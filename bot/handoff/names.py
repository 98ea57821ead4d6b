"""Anonymous conversation names such as "Blue Heron 4821" that supporters can say out loud.

The digest comes from `KeyRing.conversation_name`; this module only turns it into words.
"""

from __future__ import annotations

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


def name_from_digest(digest: bytes) -> str:
    """An adjective, an animal and four digits read from the first six bytes of a keyed digest."""
    number = int.from_bytes(digest[2:6], "big") % 10_000
    return f"{ADJECTIVES[digest[0] % len(ADJECTIVES)]} {ANIMALS[digest[1] % len(ANIMALS)]} {number:04d}"
