"""Grouping similar unmatched messages, so admins see which questions come up again and again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.nlu.normalise import basic_normalise

SIMILAR = 65.0  # token_set_ratio at which two messages count as the same question
SHOWN_EXAMPLES = 3


@dataclass(frozen=True)
class Cluster:
    """Messages that say roughly the same thing: how many, and a few of them."""

    count: int
    examples: tuple[str, ...]


def cluster_texts(texts: Sequence[str], threshold: float = SIMILAR) -> list[Cluster]:
    """Single-link clustering in the order given (day by day; a day's messages keep no order): a message
    joins the group of its most similar earlier message if that is similar enough, else starts a group.
    Groups come out largest first, in the order given within.
    """
    normal = [basic_normalise(t) for t in texts]
    group_of: list[int] = []
    members: list[list[int]] = []
    for n, text in enumerate(normal):
        found = None
        if n:
            found = process.extractOne(text, normal[:n], scorer=fuzz.token_set_ratio, score_cutoff=threshold)
        if found is not None:
            group = group_of[found[2]]
            members[group].append(n)
        else:
            group = len(members)
            members.append([n])
        group_of.append(group)
    groups = [Cluster(len(m), tuple(texts[i] for i in m[:SHOWN_EXAMPLES])) for m in members]
    return sorted(groups, key=lambda g: -g.count)
