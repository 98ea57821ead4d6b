"""Every pair of substances Peerline knows, answered in every language: never called safe, and the
overdose basics whenever an opioid or another downer is in it."""

from __future__ import annotations

import re
import shutil
from itertools import combinations
from pathlib import Path

import pytest

from bot.brain import Brain
from bot.cli import main
from bot.content.checks import safe_claim_findings
from bot.content.loader import load_content
from bot.content.placeholders import fill
from bot.engine import Engine
from bot.events import TextMessage
from bot.session import Session
from bot.substances.advice import MixingAdvisor, compose
from bot.substances.model import NOTE_LOCALES, SAFE_WORDS

ROOT = Path(__file__).resolve().parents[1]
# The paragraph every reply with an opioid or another downer carries, per language.
OVERDOSE_PARAGRAPH = {"en": ("naloxone", "alone"), "es": ("naloxona", "a solas")}


@pytest.fixture(scope="module")
def brain() -> Brain:
    return Brain.load(ROOT)


def every_reply(brain: Brain, advisor: MixingAdvisor, ids: tuple[str, str], locale: str) -> str:
    """The reply to this pair with every variant of every frame, filled for every region."""
    content = brain.content
    responses = content.locale(locale).responses

    def say(response_id: str, substances: str) -> str:
        return "\n\n".join(
            fill(variant, region.in_locale(locale), {"substances": substances})
            for region in content.regions.values()
            for variant in responses[response_id].variants
        )

    return compose(advisor, advisor.advice_for(ids), locale, say)


@pytest.mark.parametrize("locale", NOTE_LOCALES)
def test_no_reply_about_any_pair_calls_the_combination_safe(brain: Brain, locale: str) -> None:
    advisor = brain.mixing
    assert advisor is not None
    lexicon = advisor.guide.lexicon
    pairs = list(combinations(sorted(lexicon.substances), 2))
    assert len(pairs) > 1000  # the whole lexicon, not a sample
    claims = []
    for ids in pairs:
        text = every_reply(brain, advisor, ids, locale)
        found = SAFE_WORDS[locale].search(text)
        if found:
            claims.append((ids, found.group(0)))
        if any(lexicon.depressant(i) for i in ids):
            words = OVERDOSE_PARAGRAPH[locale]
            assert all(w in text.lower() for w in words), (ids, locale)
    assert claims == []


@pytest.mark.parametrize("locale", NOTE_LOCALES)
def test_every_row_of_the_table_is_reached_and_labelled_in_both_languages(brain: Brain, locale: str) -> None:
    advisor = brain.mixing
    assert advisor is not None
    guide = advisor.guide
    reached = set()
    for a, b in combinations(guide.lexicon.substances.values(), 2):
        row = guide.combination(a, b)
        if row is not None:
            reached.add(frozenset(row.pair))
            block = advisor.pair_block(advisor.advice_for((a.id, b.id)).known[0], locale)
            assert f": {guide.label(row.risk, locale)}</b>" in block
            assert not SAFE_WORDS[locale].search(block), (a.id, b.id, locale)
    assert reached == set(guide.combinations)  # no row is shadowed or unreachable


@pytest.mark.parametrize(
    ("locale", "claim"),
    [
        ("en", "This mix is safe."),
        ("en", "It's safe to take them together."),
        ("en", "A little of each is fine."),
        ("en", "Mixing them is harmless."),
        ("es", "Esta mezcla es segura."),
        ("es", "Es seguro tomarlos juntos."),
        ("es", "Un poco de cada uno, sin riesgo."),
        ("es", "Juntos son inofensivos."),
    ],
)
def test_safe_word_lists_catch_the_claim(locale: str, claim: str) -> None:
    assert SAFE_WORDS[locale].search(claim)


@pytest.mark.parametrize(
    ("locale", "advice"),
    [
        ("en", "Here is how to make it safer: less of each."),
        ("en", "Unsafe mixes are the ones with two downers."),
        ("es", "Es más seguro usar menos de cada uno."),
        ("es", "Busca ayuda médica para dejarlo con seguridad."),
        ("es", "Riesgo menor, pero no cero."),
    ],
)
def test_safe_word_lists_leave_advice_about_lowering_risk_alone(locale: str, advice: str) -> None:
    assert not SAFE_WORDS[locale].search(advice)


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("molly and fentanyl", "en"),
        ("fentanyl and weed", "en"),
        ("ghb and ketamine", "en"),
        ("éxtasis con fentanilo", "es"),
        ("mota y fentanilo", "es"),
    ],
)
def test_a_pair_with_one_opioid_or_downer_gets_naloxone_and_never_use_alone(
    brain: Brain, text: str, locale: str
) -> None:
    outcome = Engine(brain).handle(TextMessage(text), Session(locale=locale, region="us"))
    assert outcome.intent == "mixing_substances"
    reply = outcome.replies[0].text
    naloxone, alone = OVERDOSE_PARAGRAPH[locale]
    assert naloxone in reply.lower() and alone in reply and "911" in reply and "1-800-484-3731" in reply


@pytest.mark.parametrize(
    ("text", "locale", "label", "names"),
    [
        ("lithium and acid", "en", "Dangerous", "Lithium + LSD"),
        ("can i take robitussin with my prozac", "en", "Dangerous", "fluoxetine"),
        ("ghb and ketamine", "en", "Dangerous", "GHB + ketamine"),
        ("tramadol and adderall", "en", "Dangerous", "Tramadol + amphetamine"),
        ("tramadol with my zoloft", "en", "Dangerous", "sertraline"),
        ("ket and a few drinks", "en", "Dangerous", "Ketamine + alcohol"),
        ("poppers and viagra", "en", "Dangerous", "Poppers"),
        ("seroquel and fentanyl", "en", "Dangerous", "Quetiapine"),
        ("kratom and xanax", "en", "Dangerous", "Kratom"),
        ("nitazenes with heroin", "en", "Dangerous", "Nitazenes + heroin"),
        ("drinking on my nardil", "en", "High risk", "MAOI"),
        ("lsd with weed", "en", "Use caution", "LSD + cannabis"),
        ("litio con hongos", "es", "Peligrosa", "Litio"),
        ("ghb con ketamina", "es", "Peligrosa", "GHB + ketamina"),
    ],
)
def test_reviewed_combinations_get_their_level(
    brain: Brain, text: str, locale: str, label: str, names: str
) -> None:
    outcome = Engine(brain).handle(TextMessage(text), Session(locale=locale))
    assert outcome.intent == "mixing_substances", text
    reply = outcome.replies[0].text
    assert f": {label}</b>" in reply and names in reply, reply


@pytest.mark.parametrize(("text", "locale"), [("can i do meth with my antidepressants", "en"),
                                              ("alcohol con mis antidepresivos", "es")])  # fmt: skip
def test_an_unnamed_antidepressant_asks_which_one_and_warns_about_maois(
    brain: Brain, text: str, locale: str
) -> None:
    reply = Engine(brain).handle(TextMessage(text), Session(locale=locale)).replies[0].text
    assert ("Which antidepressant?" if locale == "en" else "¿Qué antidepresivo?") in reply
    assert "Nardil" in reply and ("MAOI" in reply or "IMAO" in reply)
    assert "SSRI antidepressants" not in reply and "antidepresivos ISRS" not in reply


def test_validate_strict_flags_a_mixing_reply_that_calls_a_mix_safe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder in ("intents", "responses", "resources", "substances"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    planted = {
        "en": ("Whatever you mix:", "Most mixes are fine. Whatever you mix:"),
        "es": ("Mezcles lo que mezcles:", "Es seguro si usas poco. Mezcles lo que mezcles:"),
    }
    for locale, (old, new) in planted.items():
        path = tmp_path / "responses" / locale / "mixing.yml"
        path.write_text(path.read_text().replace(old, new, 1))
    content = load_content(tmp_path)
    found = [str(p) for code in ("en", "es") for p in safe_claim_findings(content.locale(code))]
    assert len(found) == 2
    assert re.match(
        r"responses/en/mixing\.yml:\d+: error: mixing reply 'mixing_general' .*'are fine'", found[0]
    )
    assert re.match(
        r"responses/es/mixing\.yml:\d+: error: mixing reply 'mixing_general' .*'seguro'", found[1]
    )
    assert main(["--content", str(tmp_path), "validate", "--strict"]) == 1
    out = capsys.readouterr().out
    assert "mixing reply 'mixing_general' calls a combination 'are fine'" in out


def test_shipped_mixing_replies_have_no_safe_claim(brain: Brain) -> None:
    for code in NOTE_LOCALES:
        assert safe_claim_findings(brain.content.locale(code)) == []
