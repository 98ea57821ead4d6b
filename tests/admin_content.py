"""Small content trees for the admin-tool tests: the minimal English tree, a second locale, eval files."""

from __future__ import annotations

from pathlib import Path

from tests.minimal_content import INTENTS, SYNONYMS, responses_yaml, write_minimal_content

SPANISH = {
    "my friend is not breathing": "mi amigo no respira",
    "where can i get naloxone": "donde consigo naloxona",
    "how do i use narcan": "como uso narcan",
    "what are the signs of an overdose": "cuales son las senales de una sobredosis",
}


def add_locale(root: Path, code: str, replacements: dict[str, str]) -> Path:
    """A copy of the English intents and responses under `code`, with some examples replaced."""
    intents = INTENTS.replace("locale: en", f"locale: {code}")
    for english, other in replacements.items():
        intents = intents.replace(english, other)
    (root / "intents" / code).mkdir()
    (root / "responses" / code).mkdir()
    (root / "intents" / code / "main.yml").write_text(intents)
    (root / "intents" / code / "synonyms.yml").write_text(SYNONYMS.replace("locale: en", f"locale: {code}"))
    (root / "responses" / code / "all.yml").write_text(
        responses_yaml().replace("locale: en", f"locale: {code}")
    )
    return root


def write_two_locale_content(root: Path) -> Path:
    """The minimal English tree plus a Spanish one."""
    return add_locale(write_minimal_content(root), "es", SPANISH)
