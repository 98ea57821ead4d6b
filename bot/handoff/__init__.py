"""Peer-supporter handoff: the queue, claiming, timers and the supporters' card (Telegram-free parts)."""
