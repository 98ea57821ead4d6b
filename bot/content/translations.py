"""Checks across locales: every locale carries everything the default one has, with the same placeholders."""

from __future__ import annotations

from collections.abc import Mapping

from bot.content.model import LABELS, Intent, Region, Response
from bot.content.placeholders import find
from bot.errors import ContentProblem


def _placeholders(response: Response) -> frozenset[str]:
    return frozenset(name for text in response.variants for name in find(text))


def _braces(names: frozenset[str]) -> str:
    return ", ".join("{" + n + "}" for n in sorted(names)) or "none"


def locale_problems(
    default: str,
    intents: Mapping[str, Mapping[str, Intent]],
    responses: Mapping[str, Mapping[str, Response]],
    labels: Mapping[str, Mapping[str, str]],
    label_files: Mapping[str, tuple[str, int]],
    regions: Mapping[str, Region],
) -> list[ContentProblem]:
    """Missing translations, placeholders that differ, crisis flags that differ, missing labels."""
    problems: list[ContentProblem] = []
    base_intents = intents.get(default, {})
    base_responses = responses.get(default, {})
    for locale in sorted(set(intents) | set(responses) | set(labels)):
        table = intents.get(locale, {})
        answers = responses.get(locale, {})
        folder = f"intents/{locale}"
        if locale != default:
            for intent in base_intents.values():
                own = table.get(intent.id)
                if own is None:
                    problems.append(
                        ContentProblem(
                            folder,
                            None,
                            f"locale '{locale}' is missing intent '{intent.id}' (defined at {intent.source})",
                            f"add '- id: {intent.id}' with {locale} examples to a file in intents/{locale}/",
                        )
                    )
                elif own.crisis != intent.crisis:
                    problems.append(
                        ContentProblem(
                            own.source.file,
                            own.line_of("crisis"),
                            f"intent '{intent.id}' has crisis: {str(own.crisis).lower()} here "
                            f"but {str(intent.crisis).lower()} in '{default}' ({intent.source})",
                            "a crisis intent must be a crisis intent in every language",
                        )
                    )
            for response in base_responses.values():
                own_response = answers.get(response.id)
                if own_response is None:
                    problems.append(
                        ContentProblem(
                            f"responses/{locale}",
                            None,
                            f"locale '{locale}' is missing response '{response.id}' "
                            f"(defined at {response.source})",
                            f"add '{response.id}:' in '{locale}' to a file in responses/{locale}/",
                        )
                    )
                    continue
                mine, theirs = _placeholders(own_response), _placeholders(response)
                if mine != theirs:
                    problems.append(
                        ContentProblem(
                            own_response.source.file,
                            own_response.source.line,
                            f"response '{response.id}' uses {_braces(mine)} but '{default}' uses "
                            f"{_braces(theirs)} ({response.source})",
                            "use the same placeholders in every language, so no translation drops a number",
                        )
                    )
        own_labels = labels.get(locale, {})
        missing = [name for name in LABELS if name not in own_labels]
        if missing and (locale in intents or locale in responses):
            file, line = label_files.get(locale, (f"responses/{locale}/system.yml", None))
            problems.append(
                ContentProblem(
                    file,
                    line,
                    f"locale '{locale}' is missing button labels: {', '.join(missing)}",
                    f"add them under 'labels:' in responses/{locale}/system.yml, "
                    f"e.g. '{missing[0]}: \"...\"'",
                )
            )
    for region in regions.values():
        for locale in region.translations:
            if locale not in intents:
                problems.append(
                    ContentProblem(
                        region.source.file,
                        region.source.line,
                        f"region '{region.code}' has values for locale '{locale}', which has no content",
                        f"add intents/{locale}/ and responses/{locale}/, or remove the '{locale}:' block",
                    )
                )
    return problems
