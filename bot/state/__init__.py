"""Session stores: one small async interface, with Redis and in-memory implementations.

`RedisStore` lives in `bot.state.redis` and is not imported here, so code that only needs the interface
or the memory store does not load the Redis client.
"""

from bot.state.base import USER_KEY_KINDS, SessionStore, UserKeyKind
from bot.state.memory import MemoryStore

__all__ = ["USER_KEY_KINDS", "MemoryStore", "SessionStore", "UserKeyKind"]
