"""YAML reading that remembers line numbers, so every content error can point at a line."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.errors import ContentProblem


class ContentLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false, so an example like "no" or "yes" stays text."""


ContentLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ContentLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class LineDict(dict[str, Any]):
    """A mapping from YAML that knows its own line, the line of each key and each scalar as written."""

    line: int = 0
    key_lines: dict[str, int]
    written: dict[str, str]  # key -> its scalar value exactly as in the file (000 stays "000")

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)

    def as_written(self, key: str) -> str:
        """The scalar under `key` exactly as typed in the file (YAML reads 000 as 0)."""
        written: dict[str, str] = getattr(self, "written", {})
        return written.get(key, str(self.get(key)))


class LineList(list[Any]):
    """A sequence from YAML that knows its own line, the line of each item and each scalar as written."""

    line: int = 0
    item_lines: list[int]
    written: dict[int, str]  # index -> its scalar item exactly as in the file

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line

    def as_written(self, index: int) -> str:
        """The scalar item at `index` exactly as typed in the file (YAML reads 0123 as 83)."""
        written: dict[int, str] = getattr(self, "written", {})
        return written.get(index, str(self[index]))


def _convert(node: Node, loader: ContentLoader, file: str, problems: list[ContentProblem]) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        loader.flatten_mapping(node)
        mapping = LineDict()
        mapping.line = line
        mapping.key_lines = {}
        mapping.written = {}
        for key_node, value_node in node.value:
            key = _convert(key_node, loader, file, problems)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                key = str(key)
            if key in mapping:
                problems.append(
                    ContentProblem(file, key_line, f"duplicate key '{key}'", "keep one; the later one wins")
                )
            mapping[key] = _convert(value_node, loader, file, problems)
            mapping.key_lines[key] = key_line
            if isinstance(value_node, ScalarNode):
                mapping.written[key] = value_node.value
        return mapping
    if isinstance(node, SequenceNode):
        items = LineList()
        items.line = line
        items.item_lines = []
        items.written = {}
        for index, item in enumerate(node.value):
            items.append(_convert(item, loader, file, problems))
            items.item_lines.append(item.start_mark.line + 1)
            if isinstance(item, ScalarNode):
                items.written[index] = item.value
        return items
    assert isinstance(node, ScalarNode)
    return loader.construct_object(node, deep=True)


def read_yaml(path: Path, display: str, problems: list[ContentProblem]) -> Any:
    """Parse one YAML file; syntax errors become problems with the line PyYAML points at."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(ContentProblem(display, None, f"cannot read file: {exc}"))
        return None
    loader = ContentLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _convert(node, loader, display, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = " ".join(filter(None, [exc.context, exc.problem])) or "invalid YAML"
        problems.append(
            ContentProblem(
                display,
                line,
                f"YAML syntax: {what}",
                "check indentation and quote text that contains ':' or '#'",
            )
        )
        return None
    except yaml.YAMLError as exc:
        problems.append(ContentProblem(display, None, f"YAML syntax: {exc}"))
        return None
    finally:
        loader.dispose()


def is_bare_number(value: object) -> bool:
    """An unquoted number in YAML: 000 reads as 0, 0123 as 83 and 13.11 as a float, so digits people dial
    or type must be quoted text."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def unknown_keys(mapping: LineDict, allowed: Iterable[str]) -> Iterator[tuple[str, int, str]]:
    """Each key of `mapping` not in `allowed`, in order: (key, its line, a hint naming the allowed keys).

    Misspelt keys are the commonest content mistake, and silently ignoring one loses what it held.
    """
    known = set(allowed)
    hint = "allowed: " + ", ".join(sorted(known))
    for key in sorted(set(mapping) - known):
        yield key, mapping.line_of(key), hint
