"""The fictional example directory (examples/services/example.yml), which the shipped content never serves."""

from __future__ import annotations

from pathlib import Path

from bot.referrals.loader import load_directory
from bot.referrals.model import Directory

REPO = Path(__file__).resolve().parents[1]
# load_directory reads <root>/services/, so the examples folder is the root.
EXAMPLES = REPO / "examples"
EXAMPLE_FILE = EXAMPLES / "services" / "example.yml"


def example_directory() -> Directory:
    """The example services, loaded and checked against the shipped regions."""
    directory, problems = load_directory(EXAMPLES, regions=["us", "ca", "uk", "ie", "au"])
    assert problems == [], problems
    return directory
