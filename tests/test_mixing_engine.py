"""The engine's specific answers about mixing: after the crisis check, before ordinary matching."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.brain import Brain
from bot.content.html import check_html
from bot.engine import Engine
from bot.events import Outcome, Reply, TextMessage
from bot.session import Session

ROOT = Path(__file__).resolve().parents[1]


def mixing_reply(outcome: Outcome) -> Reply:
    assert outcome.intent == "mixing_substances", outcome
    assert len(outcome.replies) == 1
    reply = outcome.replies[0]
    assert check_html(reply.text) == [], reply.text
    assert len(reply.text) < 4096
    assert not re.search(r"\bsafe\b", reply.text, re.IGNORECASE), reply.text
    assert "i:talk_to_human" in [b.data for b in reply.buttons]
    return reply


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("can i take xanax with my methadone", "Dangerous"),
        ("mixing coke and molly", "High risk"),
        ("weed and a few beers together", "Use caution"),
        ("can i have a few beers on zoloft", "Use caution"),
        ("a couple of beers on acid", "Lower risk, not risk-free"),
    ],
)
def test_each_risk_level_is_answered_with_its_label_and_note(engine: Engine, text: str, label: str) -> None:
    reply = mixing_reply(engine.handle(TextMessage(text), Session()))
    assert f": {label}</b>" in reply.text


def test_depressant_mix_says_overdose_naloxone_and_never_alone_with_regional_numbers(engine: Engine) -> None:
    reply = mixing_reply(engine.handle(TextMessage("is it ok to drink on subs"), Session(region="us")))
    assert "overdose" in reply.text and "naloxone" in reply.text.lower()
    assert "Don't use alone" in reply.text or "Have someone with you" in reply.text
    assert "911" in reply.text and "1-800-484-3731" in reply.text


def test_unknown_pair_gets_honest_answer_and_general_advice(engine: Engine) -> None:
    outcome = engine.handle(TextMessage("weed and poppers at the same time"), Session())
    reply = mixing_reply(outcome)
    assert "I don't have" in reply.text and "Cannabis + poppers" in reply.text
    assert "/human" in reply.text
    assert "Dangerous" not in reply.text and "High risk" not in reply.text


def test_three_substances_answer_every_pair_most_dangerous_first(engine: Engine) -> None:
    reply = mixing_reply(engine.handle(TextMessage("coke, heroin and xanax together"), Session()))
    labels = re.findall(r": (Dangerous|High risk|Use caution|Lower risk, not risk-free)</b>", reply.text)
    assert len(labels) == 3
    order = ["Dangerous", "High risk", "Use caution", "Lower risk, not risk-free"]
    assert [order.index(x) for x in labels] == sorted(order.index(x) for x in labels)


def test_many_substances_still_fit_one_message(engine: Engine) -> None:
    text = "coke, heroin, xanax, gabapentin, beer, molly and ketamine all together"
    reply = mixing_reply(engine.handle(TextMessage(text), Session()))
    assert reply.text.count("</b>") >= 4


def test_crisis_wins_over_a_mixing_question(engine: Engine) -> None:
    outcome = engine.handle(TextMessage("took xanax and methadone and he's not breathing"), Session())
    assert outcome.intent in ("crisis_overdose", "crisis_depressant")  # an opioid with a benzo: downers
    assert outcome.replies[0].crisis


def test_one_substance_with_mixing_words_keeps_the_generic_answer(engine: Engine) -> None:
    outcome = engine.handle(TextMessage("is it ok to mix xanax"), Session())
    assert outcome.intent == "mixing_substances"
    generic = engine.brain.content.locale("en").responses["mixing_substances"].variants
    assert any(variant[:60] in outcome.replies[0].text for variant in generic)


def test_comparing_two_medicines_is_not_answered_as_a_mix(engine: Engine) -> None:
    outcome = engine.handle(TextMessage("whats the difference between methadone and suboxone"), Session())
    assert outcome.intent != "mixing_substances"


def test_mixing_answer_sets_context_for_tell_me_more(engine: Engine) -> None:
    outcome = engine.handle(TextMessage("xanax with methadone"), Session())
    assert outcome.session is not None and outcome.session.last_intent == "mixing_substances"


@pytest.fixture(scope="module")
def spanish_brain(tmp_path_factory: pytest.TempPathFactory) -> Brain:
    """The shipped content plus a stand-in 'es' locale (the English intents relabelled) and the staged
    Spanish mixing frames, until the Spanish locale content is merged."""
    root = tmp_path_factory.mktemp("content")
    for folder in ("intents", "responses", "resources", "substances"):
        shutil.copytree(ROOT / folder, root / folder)
    for folder in ("intents", "responses"):
        target = root / folder / "es"
        if target.exists():
            continue
        target.mkdir()
        for path in (root / folder / "en").glob("*.yml"):
            if path.name != "mixing.yml":
                (target / path.name).write_text(path.read_text().replace("locale: en", "locale: es", 1))
    if not (root / "responses" / "es" / "mixing.yml").exists():
        shutil.copy(ROOT / "staged" / "responses" / "es" / "mixing.yml", root / "responses" / "es")
    return Brain.load(root)


def test_spanish_question_gets_spanish_notes_and_frames(spanish_brain: Brain) -> None:
    engine = Engine(spanish_brain)
    reply = mixing_reply(engine.handle(TextMessage("puedo tomar xanax con metadona"), Session(locale="es")))
    assert "Peligrosa" in reply.text and "sobredosis" in reply.text and "naloxona" in reply.text
    assert "Gracias por preguntar" in reply.text or "Qué bueno" in reply.text
    assert "Dangerous" not in reply.text


def test_spanish_unknown_pair_is_honest_in_spanish(spanish_brain: Brain) -> None:
    engine = Engine(spanish_brain)
    reply = mixing_reply(engine.handle(TextMessage("mota y poppers juntos"), Session(locale="es")))
    assert "no tengo información" in reply.text
