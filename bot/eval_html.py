"""`peerline eval --html`: one self-contained page (styles and picture inline) an admin opens in a browser."""

from __future__ import annotations

import base64

from bot.charts import confusion_matrix_png
from bot.content.html import escape
from bot.evaluation import FALLBACK, OUT_OF_SCOPE, Evaluation, Report, confusion_counts

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
td.n{text-align:right}.bad{background:#fde2e2}img{max-width:100%}
"""


def _pct(value: float) -> str:
    return f"{value:.1%}"


def _summary(report: Report) -> str:
    rows = [
        ("messages", f"{report.total} ({report.in_scope} in scope, {report.out_of_scope} out of scope)"),
        ("top-1 accuracy (in scope)", _pct(report.accuracy)),
        ("answered without asking", _pct(report.confident_accuracy)),
        ("crisis recall", f"{_pct(report.crisis_recall)} of {report.crisis_cases}"),
        (
            "crisis false-positive rate",
            f"{_pct(report.crisis_false_positive_rate)} of {report.non_crisis_cases}",
        ),
        ("out-of-scope rejection", f"{_pct(report.out_of_scope_rejection)} of {report.out_of_scope}"),
    ]
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _per_intent(report: Report, intents: list[str]) -> str:
    head = "<tr><th>intent</th><th>precision</th><th>recall</th><th>F1</th><th>messages</th></tr>"
    rows = []
    for name in sorted(set(intents) | set(report.per_intent)):
        score = report.per_intent.get(name)
        if score is None:
            rows.append(f"<tr><td>{escape(name)}</td><td colspan=4>no messages in the file</td></tr>")
            continue
        bad = ' class="bad"' if score.f1 < 0.8 else ""
        rows.append(
            f"<tr{bad}><td>{escape(name)}</td><td class=n>{score.precision:.2f}</td>"
            f"<td class=n>{score.recall:.2f}</td><td class=n>{score.f1:.2f}</td>"
            f"<td class=n>{score.support}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _confusions(report: Report) -> str:
    if not report.confusions:
        return "<p>No confusions.</p>"
    items = "".join(
        f"<li><b>{escape(e)}</b> taken as <b>{escape(p)}</b>: {n}, e.g. "
        + ", ".join(f"<q>{escape(t)}</q>" for t in texts)
        + "</li>"
        for e, p, n, texts in report.confusions
    )
    return f"<ul>{items}</ul>"


def _failures(report: Report) -> str:
    if not report.failures:
        return "<p>Every message was understood.</p>"
    head = (
        "<tr><th>locale</th><th>message</th><th>expected</th><th>got</th><th>score</th><th>crisis</th></tr>"
    )
    rows = "".join(
        f"<tr><td>{escape(o.locale)}</td><td>{escape(o.case.text)}</td>"
        f"<td>{escape(o.case.expected or OUT_OF_SCOPE)}</td><td>{escape(o.predicted or FALLBACK)}</td>"
        f"<td class=n>{o.score:.0f}</td><td>{'yes' if o.crisis else ''}</td></tr>"
        for o in report.failures
    )
    return f"<table>{head}{rows}</table>"


def render_html(evaluation: Evaluation, title: str) -> str:
    """The whole report; every piece of text from files is escaped."""
    overall = evaluation.overall
    rows, columns, counts = confusion_counts(overall, evaluation.intents)
    picture = base64.b64encode(confusion_matrix_png(rows, columns, counts)).decode("ascii")
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        "<h2>Overall</h2>",
        _summary(overall),
    ]
    if len(evaluation.by_locale) > 1:
        for code, report in sorted(evaluation.by_locale.items()):
            parts += [f"<h3>Locale {escape(code)}</h3>", _summary(report)]
    parts += [
        "<h2>Per intent</h2>",
        _per_intent(overall, evaluation.intents),
        "<h2>Confusion matrix</h2>",
        f'<img alt="confusion matrix of {len(rows)} expected by {len(columns)} predicted labels" '
        f'src="data:image/png;base64,{picture}">',
        "<h2>Most confused pairs</h2>",
        _confusions(overall),
        "<h2>Messages that failed</h2>",
        _failures(overall),
        "</body></html>",
    ]
    return "\n".join(parts)
