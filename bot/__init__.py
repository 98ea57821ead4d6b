"""Peerline: an anonymous harm reduction peer-support bot."""

__version__ = "0.1.0"
