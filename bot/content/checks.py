"""Cross-intent checks: errors that block loading and the quality findings of `validate --strict`."""

from __future__ import annotations

import re
from collections.abc import Mapping

from rapidfuzz import fuzz, process

from bot.content.model import (
    CRISIS_RESPONSES,
    MIN_EXAMPLES,
    MIXING_RESPONSES,
    PHONE_FRIENDLY_CHARS,
    REGION_PLACEHOLDERS,
    SYSTEM_RESPONSES,
    Content,
    Intent,
    Locale,
    Response,
)
from bot.content.placeholders import PLACEHOLDER_RE as _PLACEHOLDER_RE
from bot.errors import ContentProblem
from bot.nlu.matcher import Matcher
from bot.nlu.normalise import Normaliser
from bot.referrals.card import REFERRAL_RESPONSES
from bot.substances.model import SAFE_WORDS

# Examples this similar (rapidfuzz token_sort_ratio, after normalising) under two intents blur them.
NEAR_DUPLICATE = 90.0
# Engine placeholders and the only responses the engine fills them in.
ENGINE_FILLED: dict[str, frozenset[str]] = {"suggestion": frozenset({"confirm"})}
# The intent whose reply is the general answer about mixing (the engine's MIXING_INTENT).
MIXING_INTENT = "mixing_substances"
# Every variant of a crisis intent's reply gives these, filled from resources/regions.yml.
CRISIS_PLACEHOLDERS: tuple[str, ...] = ("emergency_number", "crisis_line")
# Digit groups joined by one space, dot or dash (brackets allowed): "911", "13 11 14", "1-800-662-4357".
_DIGIT_RUN_RE = re.compile(r"\+?\(?\d+\)?(?:[ .-]\(?\d+\)?)*")


def dialable_numbers(text: str) -> list[str]:
    """Runs of digits in `text` that could be a number to dial: 3+ digits in a group, or 3+ groups.

    Steps ("1."), ranges ("2-3 minutes") and "24/7" are not; "911", "000" and "13 11 14" are.
    """
    found = []
    for match in _DIGIT_RUN_RE.finditer(text):
        groups = re.findall(r"\d+", match.group())
        if len(groups) >= 3 or any(len(group) >= 3 for group in groups):
            found.append(match.group().strip())
    return found


def is_crisis_response(response_id: str) -> bool:
    """A reply someone may read in an emergency: the crisis_* replies and the check-in tier."""
    return response_id in CRISIS_RESPONSES or response_id.startswith(("crisis_", "check_in"))


def crisis_response_problems(
    intents: Mapping[str, Mapping[str, Intent]], responses: Mapping[str, Mapping[str, Response]]
) -> list[ContentProblem]:
    """Each variant of a crisis reply gives the region's numbers by placeholder and never types one.

    Crisis replies are those of crisis intents and every response `is_crisis_response` names, so a
    reply the engine picks by itself (crisis_pills, check_in, ...) is held to the same rule.
    """
    problems: list[ContentProblem] = []
    needed = " and ".join("{" + name + "}" for name in CRISIS_PLACEHOLDERS)
    for locale in sorted(set(intents) | set(responses)):
        table = intents.get(locale, {})
        crisis_ids = {intent.response for intent in table.values() if intent.crisis}
        crisis_ids |= {rid for rid in responses.get(locale, {}) if is_crisis_response(rid)}
        for response_id in sorted(crisis_ids):
            response = responses.get(locale, {}).get(response_id)
            if response is None:
                continue  # the unknown response is reported at the intent
            lines = response.variant_lines or (response.source.line,) * len(response.variants)
            for number, (text, line) in enumerate(zip(response.variants, lines, strict=False), 1):
                where = f"crisis response '{response_id}' ({locale}), variant {number},"
                used = {m.group(1) for m in _PLACEHOLDER_RE.finditer(text) if m.group(1)}
                missing = ["{" + name + "}" for name in CRISIS_PLACEHOLDERS if name not in used]
                if missing:
                    problems.append(
                        ContentProblem(
                            response.source.file,
                            line,
                            f"{where} does not give {' or '.join(missing)}",
                            f"every variant of a crisis reply must include {needed}; "
                            "the numbers come from resources/regions.yml",
                        )
                    )
                for digits in dialable_numbers(text):
                    problems.append(
                        ContentProblem(
                            response.source.file,
                            line,
                            f"{where} has a number written in it: {digits!r}",
                            f"write {needed} instead: numbers belong only in resources/regions.yml, "
                            "where each region has its own",
                        )
                    )
    return problems


def duplicate_examples(
    intents: Mapping[str, Mapping[str, Intent]], synonyms: Mapping[str, Mapping[str, str]]
) -> list[ContentProblem]:
    """The same example (after normalising) under two intents makes matching a coin toss."""
    problems: list[ContentProblem] = []
    for locale, table in intents.items():
        normalise = Normaliser(synonyms.get(locale, {}))
        owner: dict[str, tuple[str, str, int]] = {}
        for intent in table.values():
            lines = intent.example_lines or (intent.source.line,) * len(intent.examples)
            for example, line in zip(intent.examples, lines, strict=False):
                key = normalise(example)
                first = owner.get(key)
                if first is None:
                    owner[key] = (intent.id, intent.source.file, line)
                elif first[0] != intent.id:
                    problems.append(
                        ContentProblem(
                            intent.source.file,
                            line,
                            f"example {example!r} of '{intent.id}' is also an example of '{first[0]}'",
                            f"keep it under one intent (the other is at {first[1]}:{first[2]})",
                        )
                    )
    return problems


def _example_line(intent: Intent, position: int) -> int:
    lines = intent.example_lines
    return lines[position] if position < len(lines) else intent.source.line


def near_duplicates(locale: Locale) -> list[ContentProblem]:
    """Examples under different intents that read almost the same."""
    normalise = Normaliser(locale.synonyms)
    owners = [(intent, n) for intent in locale.intents.values() for n in range(len(intent.examples))]
    texts = [normalise(intent.examples[n]) for intent, n in owners]
    if len(texts) < 2:
        return []
    scores = process.cdist(texts, texts, scorer=fuzz.token_sort_ratio, score_cutoff=NEAR_DUPLICATE, workers=1)
    found = []
    for a, b in zip(*scores.nonzero(), strict=True):
        (first, i), (second, j) = owners[a], owners[b]
        if a < b and first.id != second.id:
            found.append(
                ContentProblem(
                    second.source.file,
                    _example_line(second, j),
                    f"example {second.examples[j]!r} of '{second.id}' is nearly the same as "
                    f"{first.examples[i]!r} of '{first.id}' ({scores[a, b]:.0f}% alike)",
                    f"reword one or keep it under one intent (the other is at "
                    f"{first.source.file}:{_example_line(first, i)})",
                    severity="warning",
                )
            )
    return found


def misleading_example_findings(locale: Locale, matcher: Matcher) -> list[ContentProblem]:
    """Examples that, left out of the index, match another intent better than their own."""
    from bot.nlu.separation import misleading_examples

    found = []
    for score in misleading_examples(matcher):
        intent = locale.intents[score.intent]
        found.append(
            ContentProblem(
                intent.source.file,
                _example_line(intent, score.position),
                f"example {score.example!r} of '{score.intent}' matches '{score.nearest}' better "
                f"({score.nearest}: {score.nearest_score:.1f}, {score.intent}: {score.own:.1f}, "
                "scored without the example itself)",
                f"add examples or keywords to '{score.intent}' with its distinctive words, "
                f"or move the example to '{score.nearest}'",
                severity="warning",
            )
        )
    return found


def placeholder_findings(content: Content, locale: Locale) -> list[ContentProblem]:
    """Placeholders a region has no value for, or engine placeholders in a response the engine never fills."""
    found = []
    for response in locale.responses.values():
        lines = response.variant_lines or (response.source.line,) * len(response.variants)
        for text, line in zip(response.variants, lines, strict=False):
            for name in sorted({m.group(1) for m in _PLACEHOLDER_RE.finditer(text) if m.group(1)}):
                if name in REGION_PLACEHOLDERS:
                    missing = sorted(code for code, r in content.regions.items() if name not in r.values)
                    if missing:
                        found.append(
                            ContentProblem(
                                response.source.file,
                                line,
                                f"response '{response.id}' uses {{{name}}}, which region(s) "
                                f"{', '.join(missing)} do not define",
                                f"add '{name}:' to those regions in resources/regions.yml",
                                severity="warning",
                            )
                        )
                elif name in ENGINE_FILLED and response.id not in ENGINE_FILLED[name]:
                    found.append(
                        ContentProblem(
                            response.source.file,
                            line,
                            f"response '{response.id}' uses {{{name}}}, which is only filled in "
                            + ", ".join(sorted(ENGINE_FILLED[name])),
                            f"remove {{{name}}}; people would see it as written",
                            severity="warning",
                        )
                    )
    return found


def safe_claim_findings(locale: Locale) -> list[ContentProblem]:
    """Mixing replies that call a combination safe; the notes in substances/ are refused at load."""
    mixing = set(MIXING_RESPONSES)
    if MIXING_INTENT in locale.intents:
        mixing.add(locale.intents[MIXING_INTENT].response)
    pattern = SAFE_WORDS.get(locale.code)
    found = []
    for response_id in sorted(mixing):
        response = locale.responses.get(response_id)
        if response is None or pattern is None:
            continue
        lines = response.variant_lines or (response.source.line,) * len(response.variants)
        for text, line in zip(response.variants, lines, strict=False):
            claim = pattern.search(text)
            if claim:
                found.append(
                    ContentProblem(
                        response.source.file,
                        line,
                        f"mixing reply '{response_id}' calls a combination '{claim.group(0)}'",
                        "no mix is risk-free: say what the risk is and how to lower it",
                    )
                )
    return found


def quality_findings(content: Content, matchers: Mapping[str, Matcher] | None = None) -> list[ContentProblem]:
    """Things that load fine but make the bot worse; reported by `peerline validate --strict`."""
    found: list[ContentProblem] = []

    def warn(file: str, line: int | None, message: str, hint: str) -> None:
        found.append(ContentProblem(file, line, message, hint, severity="warning"))

    for locale in content.locales.values():
        matcher = (matchers or {}).get(locale.code) or Matcher(
            locale.intents.values(), locale.synonyms, None, locale.stopwords
        )
        found += misleading_example_findings(locale, matcher)
        found += near_duplicates(locale)
        found += placeholder_findings(content, locale)
        found += safe_claim_findings(locale)
        used = {intent.response for intent in locale.intents.values()} | set(SYSTEM_RESPONSES)
        used |= set(REFERRAL_RESPONSES)
        for intent in locale.intents.values():
            if len(intent.examples) < MIN_EXAMPLES:
                warn(
                    intent.source.file,
                    intent.source.line,
                    f"intent '{intent.id}' has {len(intent.examples)} examples",
                    f"write at least {MIN_EXAMPLES} varied ones: typos, slang, short and long",
                )
            for follow in intent.follow_ups:
                if follow.intent == intent.id:
                    warn(
                        intent.source.file,
                        intent.source.line,
                        f"intent '{intent.id}' has a follow-up back to itself",
                        "point the button at a next step instead",
                    )
        for response in locale.responses.values():
            lines = response.variant_lines or (response.source.line,) * len(response.variants)
            for text, line in zip(response.variants, lines, strict=False):
                if len(text) > PHONE_FRIENDLY_CHARS:
                    warn(
                        response.source.file,
                        line,
                        f"response '{response.id}' has a variant of {len(text)} characters",
                        f"keep it under {PHONE_FRIENDLY_CHARS} so it reads well on a phone",
                    )
            if response.id not in used:
                warn(
                    response.source.file,
                    response.source.line,
                    f"response '{response.id}' is not used by any intent",
                    "point an intent at it or remove it",
                )
    return found
