"""Pictures for admins, drawn with matplotlib's Agg backend (no display needed) and returned as PNG bytes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.usage import DayStats

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR header; raises ValueError if it is not a PNG."""
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _pyplot() -> Any:
    # Imported on use: matplotlib is slow to import and only these pictures need it.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(figure)
    return buffer.getvalue()


def confusion_matrix_png(
    rows: Sequence[str], columns: Sequence[str], counts: Sequence[Sequence[int]]
) -> bytes:
    """Expected intents down, predicted across, every label written out; the diagonal is what went right."""
    plt = _pyplot()
    size = max(4.0, 0.32 * max(len(rows), len(columns)) + 2.5)
    figure, axes = plt.subplots(figsize=(size, size))
    image = axes.imshow(counts, cmap="Blues", aspect="auto")
    axes.set_xticks(range(len(columns)), labels=list(columns), rotation=90, fontsize=8)
    axes.set_yticks(range(len(rows)), labels=list(rows), fontsize=8)
    axes.set_xlabel("predicted")
    axes.set_ylabel("expected")
    peak = max((max(row) for row in counts if row), default=0)
    for r, row in enumerate(counts):
        for c, value in enumerate(row):
            if value:
                colour = "white" if value > peak / 2 else "black"
                axes.text(c, r, str(value), ha="center", va="center", fontsize=7, color=colour)
    figure.colorbar(image, ax=axes, fraction=0.03)
    axes.set_title("Confusion matrix (messages)")
    return _png(figure)


def usage_png(days: Sequence[DayStats], top_intents: int = 8) -> bytes:
    """Three panels over the days: messages by intent, fallback rate, median wait for a supporter."""
    plt = _pyplot()
    labels = [d.day.strftime("%m-%d") for d in days]
    totals: dict[str, int] = {}
    for d in days:
        for intent, n in d.intents.items():
            totals[intent] = totals.get(intent, 0) + n
    top = sorted(totals, key=lambda i: (-totals[i], i))[:top_intents]
    figure, (intents_ax, fallback_ax, wait_ax) = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
    bottom = [0] * len(days)
    for intent in top:
        values = [d.intents.get(intent, 0) for d in days]
        intents_ax.bar(labels, values, bottom=bottom, label=intent)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    other = [sum(d.intents.values()) - b for d, b in zip(days, bottom, strict=True)]
    if any(other):
        intents_ax.bar(labels, other, bottom=bottom, label="other", color="lightgrey")
    intents_ax.set_title("Messages per day by intent")
    if top:
        intents_ax.legend(fontsize=7, loc="upper left")
    fallback_ax.plot(labels, [100 * d.fallback_rate for d in days], marker="o", color="tab:red")
    fallback_ax.set_title("Fallback rate (%)")
    fallback_ax.set_ylim(0, 100)
    waits = [d.median_wait if d.median_wait is not None else float("nan") for d in days]
    wait_ax.plot(labels, waits, marker="o", color="tab:green")
    wait_ax.set_title("Median wait for a supporter (seconds)")
    wait_ax.tick_params(axis="x", rotation=45)
    figure.tight_layout()
    return _png(figure)
