"""The `peerline` command: chat, match, intents, validate and eval."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.admin_cli import add_admin_commands
from bot.brain import Brain
from bot.content.checks import quality_findings
from bot.content.loader import default_content_root, load_content
from bot.errors import ContentError, PeerlineError
from bot.telegram.run import add_run_command


def _content_root(args: argparse.Namespace) -> Path:
    if args.content:
        return Path(args.content)
    env = os.environ.get("PEERLINE_CONTENT_DIR")
    return Path(env) if env else default_content_root()


def _brain(args: argparse.Namespace) -> Brain:
    return Brain.load(_content_root(args))


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.engine import Engine
    from bot.terminal import TerminalChat

    brain = _brain(args)
    if args.region and args.region not in brain.content.regions:
        known = ", ".join(sorted(brain.content.regions))
        raise PeerlineError(f"unknown region '{args.region}'; choose one of: {known}")
    if args.locale and args.locale not in brain.content.locales:
        known = ", ".join(sorted(brain.content.locales))
        raise PeerlineError(f"unknown language '{args.locale}'; choose one of: {known}")
    TerminalChat(Engine(brain), sys.stdout, region=args.region, locale=args.locale).run(input)
    return 0


def cmd_match(args: argparse.Namespace) -> int:
    from bot.decision import first_message
    from bot.engine import Engine

    engine = Engine(_brain(args))
    if args.json:
        texts = [args.text] if args.text else (line.rstrip("\n") for line in sys.stdin)
        for text in texts:
            decision = first_message(engine, text, args.locale)
            sys.stdout.write(json.dumps(decision.as_json(), ensure_ascii=False) + "\n")
        return 0
    if not args.text:
        raise PeerlineError("give a message to match, or use --json to read messages from stdin")
    decision = first_message(engine, args.text, args.locale)
    result = decision.match
    verdict = (
        decision.risk.replace("_", "-")
        if decision.risk
        else ("match" if decision.confident else "ask to confirm" if decision.intent else "fallback")
    )
    reason = result.crisis_reason if result and decision.risk else None
    print(f"intent:    {decision.intent or '(none)'}")
    print(f"score:     {decision.score:.1f}")
    print(f"decision:  {verdict}" + (f" ({reason})" if reason else ""))
    print(f"response:  {decision.response}")
    if result and result.runner_up:
        print(f"runner-up: {result.runner_up[0]} ({result.runner_up[1]:.1f})")
    if result:
        print("candidates: " + ", ".join(f"{i} {s:.1f}" for i, s in result.candidates))
    return 0


def cmd_intents(args: argparse.Namespace) -> int:
    content = load_content(_content_root(args))
    intents = [i for locale in content.locales.values() for i in locale.intents.values()]
    if args.json:
        rows = [
            {"id": i.id, "title": i.title, "examples": list(i.examples), "crisis": i.crisis,
             "locale": i.locale, "response": i.response}
            for i in intents
        ]  # fmt: skip
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for i in intents:
        flag = "  [crisis]" if i.crisis else ""
        print(f"{i.locale}  {i.id:<22} {len(i.examples):>3} examples{flag}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    root = _content_root(args)
    try:
        brain = Brain.load(root)  # content, services and substances, validated together
    except ContentError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        errors = sum(1 for p in exc.problems if p.severity == "error")
        print(f"{errors} error(s): the content was not loaded", file=sys.stderr)
        return 1
    content = brain.content
    findings = quality_findings(content) if args.strict else []
    for finding in findings:
        print(finding)
    intents = sum(len(loc.intents) for loc in content.locales.values())
    examples = sum(len(i.examples) for loc in content.locales.values() for i in loc.intents.values())
    print(
        f"ok: {intents} intents, {examples} examples, {len(content.regions)} regions, "
        f"{len(brain.directory.services)} services, "
        f"locales {', '.join(sorted(content.locales))}, version {content.version}"
        + (f"; {brain.mixing.describe()}" if brain.mixing else "")
        + (f"; {len(findings)} finding(s)" if args.strict else "")
    )
    return 1 if findings else 0


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.evaluation import below_minimums, evaluate_brain, format_evaluation, load_cases

    brain = _brain(args)
    cases = [case for file in args.file for case in load_cases(Path(file))]
    evaluation = evaluate_brain(brain, cases, args.locale)
    if args.json:
        print(json.dumps(evaluation.as_json(), ensure_ascii=False, indent=2))
    else:
        print(format_evaluation(evaluation))
    if args.html:
        from bot.eval_html import render_html

        title = "Peerline evaluation: " + ", ".join(Path(f).name for f in args.file)
        Path(args.html).write_text(render_html(evaluation, title), encoding="utf-8")
        print(f"report written to {args.html}", file=sys.stderr)
    failed = below_minimums(evaluation.overall, args.min_accuracy, args.min_crisis_recall)
    for line in failed:
        print(f"below minimum: {line}", file=sys.stderr)
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="peerline", description=__doc__)
    parser.add_argument(
        "--content",
        help="folder with intents/, responses/, resources/ (default: $PEERLINE_CONTENT_DIR or this checkout)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="talk to the bot in this terminal (no token, no Redis)")
    chat.add_argument("--region", help="region code for phone numbers, e.g. us, ca, uk, ie, au, mx, es")
    chat.add_argument("--locale", help="language to start in, e.g. en or es (switch any time with /language)")
    chat.set_defaults(func=cmd_chat)

    match = sub.add_parser("match", help="show how a message is understood")
    match.add_argument("text", nargs="?", help="the message (with --json: omit to read stdin)")
    match.add_argument("--json", action="store_true", help="one JSON object per input line")
    match.add_argument("--locale", default=None)
    match.set_defaults(func=cmd_match)

    intents = sub.add_parser("intents", help="list intents")
    intents.add_argument("--json", action="store_true")
    intents.set_defaults(func=cmd_intents)

    validate = sub.add_parser("validate", help="check the content; non-zero exit on problems")
    validate.add_argument("--strict", action="store_true", help="also report quality findings")
    validate.set_defaults(func=cmd_validate)

    ev = sub.add_parser("eval", help="measure matching on a labelled message file")
    ev.add_argument("file", nargs="+", help="YAML files of labelled messages")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--locale", default=None, help="evaluate every message in this locale")
    ev.add_argument("--html", metavar="OUT", help="also write a report with a confusion matrix")
    ev.add_argument("--min-accuracy", type=float, default=None)
    ev.add_argument("--min-crisis-recall", type=float, default=None)
    ev.set_defaults(func=cmd_eval)
    add_run_command(sub)
    add_admin_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ContentError as exc:
        print(f"peerline: the content has errors:\n{exc}", file=sys.stderr)
        return 2
    except PeerlineError as exc:
        print(f"peerline: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
