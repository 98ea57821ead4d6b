"""Substances people name and what is known about taking them together."""
