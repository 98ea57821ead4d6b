"""What a content change does, per locale: intents added, removed and changed; examples added and removed."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.content.model import Content, Intent

# What makes an intent "changed" (where it is written, its lines, does not).
_COMPARED = ("title", "response", "examples", "keywords", "patterns", "guards", "urgent", "crisis",
             "priority", "follow_ups")  # fmt: skip


@dataclass(frozen=True)
class LocaleDiff:
    """One locale's changes; a locale added or removed shows all its intents as added or removed."""

    locale: str
    intents_added: tuple[str, ...] = ()
    intents_removed: tuple[str, ...] = ()
    intents_changed: tuple[str, ...] = ()
    examples_added: int = 0
    examples_removed: int = 0
    responses_changed: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.intents_added
            or self.intents_removed
            or self.intents_changed
            or self.examples_added
            or self.examples_removed
            or self.responses_changed
        )


@dataclass(frozen=True)
class ContentDiff:
    """Changes between two versions of the content."""

    old_version: str
    new_version: str
    locales: tuple[LocaleDiff, ...] = field(default=())
    regions_changed: bool = False

    @property
    def empty(self) -> bool:
        return not self.regions_changed and all(d.empty for d in self.locales)

    def text(self) -> str:
        """A few short lines an admin reads in Telegram."""
        lines = [f"content {self.old_version} -> {self.new_version}"]
        if self.empty:
            return lines[0] + ": no changes to intents, examples, responses or regions"
        for d in self.locales:
            if d.empty:
                continue
            parts = []
            if d.intents_added:
                parts.append("added " + ", ".join(d.intents_added))
            if d.intents_removed:
                parts.append("removed " + ", ".join(d.intents_removed))
            if d.intents_changed:
                parts.append("changed " + ", ".join(d.intents_changed))
            if d.examples_added or d.examples_removed:
                parts.append(f"examples +{d.examples_added} -{d.examples_removed}")
            if d.responses_changed:
                parts.append("responses edited: " + ", ".join(d.responses_changed))
            lines.append(f"[{d.locale}] " + "; ".join(parts))
        if self.regions_changed:
            lines.append("regions (phone numbers and resources) changed")
        return "\n".join(lines)


def _same(a: Intent, b: Intent) -> bool:
    return all(getattr(a, name) == getattr(b, name) for name in _COMPARED)


def diff_content(old: Content, new: Content) -> ContentDiff:
    """Compare two loaded contents; pure, so it can be shown before or after a swap."""
    diffs = []
    for code in sorted(set(old.locales) | set(new.locales)):
        before = old.locales[code].intents if code in old.locales else {}
        after = new.locales[code].intents if code in new.locales else {}
        old_examples = {(i.id, e) for i in before.values() for e in i.examples}
        new_examples = {(i.id, e) for i in after.values() for e in i.examples}
        old_responses = old.locales[code].responses if code in old.locales else {}
        new_responses = new.locales[code].responses if code in new.locales else {}
        diffs.append(
            LocaleDiff(
                locale=code,
                intents_added=tuple(sorted(set(after) - set(before))),
                intents_removed=tuple(sorted(set(before) - set(after))),
                intents_changed=tuple(
                    sorted(i for i in set(before) & set(after) if not _same(before[i], after[i]))
                ),
                examples_added=len(new_examples - old_examples),
                examples_removed=len(old_examples - new_examples),
                responses_changed=tuple(
                    sorted(
                        r
                        for r in set(old_responses) | set(new_responses)
                        if r not in old_responses
                        or r not in new_responses
                        or old_responses[r].variants != new_responses[r].variants
                    )
                ),
            )
        )
    regions_changed = {c: dict(r.values) for c, r in old.regions.items()} != {
        c: dict(r.values) for c, r in new.regions.items()
    } or old.default_region != new.default_region
    return ContentDiff(old.version, new.version, tuple(diffs), regions_changed)
