"""Normalising: whatever people type becomes plain, comparable text."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.nlu.normalise import MAX_CHARS, Normaliser, basic_normalise


def test_case_punctuation_and_emoji_are_dropped() -> None:
    assert basic_normalise("Where can I get NARCAN?!! 🙏🙏") == "where can i get narcan"


def test_apostrophes_of_every_kind_vanish_inside_words() -> None:
    assert basic_normalise("don't") == basic_normalise("don’t") == "dont"


def test_repeated_letters_are_collapsed() -> None:
    assert basic_normalise("pleeeease helllp") == "please help"


def test_elongated_words_keep_the_double_letter_of_a_known_word() -> None:
    known = frozenset({"kill", "still", "myself"})
    assert basic_normalise("i want to killll myselffff", known) == "i want to kill myself"
    assert basic_normalise("hes stilllll not breathing", known) == "hes still not breathing"
    assert basic_normalise("pleeeease helllp", known) == "please help"  # unknown doubles fall back to one


def test_elongation_without_known_words_collapses_to_one_letter() -> None:
    assert basic_normalise("killll") == "kil"


def test_digits_are_not_collapsed() -> None:
    assert basic_normalise("call 1000 or 911") == "call 1000 or 911"


def test_fullwidth_and_compatibility_forms_fold() -> None:
    assert basic_normalise("ＮＡＲＣＡＮ ﬁne") == "narcan fine"


def test_zero_width_and_control_characters_are_removed() -> None:
    assert basic_normalise("nar\u200bcan\x00\x07 now\u202e") == "narcan now"


def test_synonyms_rewrite_whole_words_longest_first() -> None:
    normalise = Normaliser({"dope sick": "withdrawal", "dope": "heroin", "narcan": "naloxone"})
    assert normalise("so DOPE SICK, need narcan") == "so withdrawal need naloxone"
    assert normalise("dopey narcanx") == "dopey narcanx"


def test_synonym_output_is_not_rewritten_again() -> None:
    normalise = Normaliser({"subs": "buprenorphine", "buprenorphine": "bupe"})
    assert normalise("subs") == "buprenorphine"


def test_huge_input_is_capped() -> None:
    assert len(basic_normalise("a b " * 20_000)) <= MAX_CHARS


def test_the_end_of_a_message_is_read_when_nfkc_lengthens_it() -> None:
    text = "ok\u2026 " * 700 + "he is not breathing please help"  # "…" becomes "..." under NFKC
    assert len(text) < MAX_CHARS
    assert basic_normalise(text).endswith("ok he is not breathing please help")


def test_the_end_of_a_full_telegram_message_is_read_whatever_nfkc_makes_of_the_rest() -> None:
    tail = " he is not breathing"
    text = "\ufdfa" * (MAX_CHARS - len(tail)) + tail  # one character that NFKC turns into 18
    assert basic_normalise(text).endswith(tail.strip())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=5000))
def test_any_text_normalises_to_clean_lowercase_words(text: str) -> None:
    out = basic_normalise(text)
    assert out == out.strip()
    assert "  " not in out
    assert all(ch == " " or unicodedata.category(ch)[0] in "LNM" for ch in out)
    assert basic_normalise(out) == out


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.frozensets(st.text(alphabet="abkilmo", min_size=1, max_size=6), max_size=20))
def test_known_words_never_leave_a_letter_three_times_in_a_row(text: str, known: frozenset[str]) -> None:
    out = basic_normalise(text, known)
    assert not re.search(r"([^\W\d_])\1\1", out)
    assert basic_normalise(out, known) == out


def test_strike_through_overlays_after_every_character_are_dropped() -> None:
    text = "\u0336".join("i want to kill myself") + "\u0336"
    assert basic_normalise(text) == "i want to kill myself"


def test_one_accent_fold_takes_marks_off_latin_letters_only() -> None:
    assert (
        basic_normalise("¿Qué pasó con la COCAÍNA y el pingüino, niño?")
        == "que paso con la cocaina y el pinguino nino"
    )
    # In other scripts a mark makes another letter: Cyrillic "й" is not "и", Greek keeps its tonos.
    assert basic_normalise("чай") == "чай" and basic_normalise("καφέ") == "καφέ"
