"""Matching on the shipped catalogue: every intent reachable, crisis first, look-alikes safe."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.brain import Brain
from bot.nlu.crisis import without_captures

# One message per intent, written for this test (not copied from the examples).
PER_INTENT = {
    "naloxone": "where do i pick up narcan for free",
    "overdose_signs": "what does an opioid overdose look like",
    "never_use_alone": "is there a hotline i can call so im not using alone",
    "drug_checking": "where can i get fentanyl test strips",
    "safer_injection": "how do i find a new needle so i dont share",
    "safer_use": "any tips for safer smoking so i dont burn my lips",
    "mixing_substances": "is it bad to mix alcohol with benzos",
    "mat_overview": "what medications help with opioid addiction",
    "buprenorphine": "how do i start suboxone without getting sick",
    "methadone": "how do i get into a methadone clinic",
    "withdrawal": "im so dope sick what helps",
    "find_treatment": "where can i find a rehab that takes medicaid",
    "health_screening": "where can i get tested for hep c",
    "mental_health": "my anxiety has been really bad lately",
    "harm_reduction_info": "what is harm reduction exactly",
    "abstinence": "i want to quit using completely",
    "cutting_down": "how can i cut back on how much i use",
    "relapse": "i relapsed after six months",
    "cravings": "having the worst cravings right now",
    "family_support": "my son is using heroin how can i help him",
    "shame_stigma": "i feel so ashamed of my drug use",
    "talk_to_human": "can i talk to a real person please",
    "greeting": "hey there",
    "thanks": "thank you so much",
    "goodbye": "ok bye for now",
    "bot_help": "what can you help me with",
    "privacy": "is this chat anonymous",
}


@pytest.mark.parametrize(("intent", "text"), sorted(PER_INTENT.items()))
def test_each_intent_is_reached_by_a_new_phrasing(brain: Brain, intent: str, text: str) -> None:
    result = brain.matcher("en").match(text)
    assert result.intent == intent, result.candidates
    assert not result.crisis


def test_catalogue_covers_every_contract_intent(brain: Brain) -> None:
    ids = set(brain.content.locale("en").intents)
    assert set(PER_INTENT) | {"crisis_overdose", "crisis_suicide"} <= ids


@pytest.mark.parametrize(
    "text",
    [
        "my friend is not breathing",
        "he wont wake up after using",
        "HELP she took something and her lips are blue",
        "i think im overdosing",
        "gave him narcan 2 min ago and he's still not breathing",
        "my roommate is foaming at the mouth after shooting up",
        # Question words ("if", "what are") must not hide an emergency described in the present tense.
        "if i shake him he doesnt wake up",
        "my friend wont wake up what are the signs of overdose",
    ],
)
def test_overdose_happening_now_is_a_crisis(brain: Brain, text: str) -> None:
    result = brain.matcher("en").match(text)
    # Each kind of emergency has its own reply: someone else, oneself, downers (issue "Emergency replies").
    emergencies = ("crisis_overdose", "crisis_self_overdose", "crisis_depressant")
    assert result.crisis and result.intent in emergencies, result


@pytest.mark.parametrize(
    "text",
    [
        "i dont want to wake up tomorrow",
        "i want to kill myself",
        "everyone would be better off without me",
        "i cant do this anymore",
        "i wnat to die",
        "just want to go to sleep and never wake up",
    ],
)
def test_suicidal_thoughts_are_a_crisis(brain: Brain, text: str) -> None:
    result = brain.matcher("en").match(text)
    assert result.crisis and result.intent == "crisis_suicide", result


@pytest.mark.parametrize(
    "text",
    [
        "im dying to know how test strips work",
        "what are the signs of an overdose",
        "just killing time before my methadone appointment",
        "how do i know if someone is overdosing",
        "i dont want to wake up dope sick again tomorrow",
        "this heat is killing me",
        "i overdosed 3 years ago and survived",
        "narcan",
        "why does fent make people stop breathing",
        "if someone is not breathing what do i do",
        "my dog wont wake up",
    ],
)
def test_figurative_and_informational_look_alikes_are_not_a_crisis(brain: Brain, text: str) -> None:
    assert not brain.matcher("en").match(text).crisis


def test_crisis_wins_over_a_stronger_ordinary_match(brain: Brain) -> None:
    result = brain.matcher("en").match("where can i get narcan my friend is not breathing")
    assert result.crisis and result.intent == "crisis_overdose"


@pytest.mark.parametrize(
    "text", ["whats the capital of australia", "best pizza near me", "asdfghjkl", "how do i reset my iphone"]
)
def test_out_of_scope_messages_fall_back(brain: Brain, text: str) -> None:
    result = brain.matcher("en").match(text)
    assert result.intent is None and result.response == "fallback"


def test_unsure_match_asks_to_confirm(brain: Brain) -> None:
    matcher = brain.matcher("en")
    result = matcher.match("kits")
    assert result.intent is None or result.confident or result.response == "confirm"
    unsure = [r for r in (matcher.match(t) for t in ["new works", "tips", "free kits", "strips"]) if r.intent]
    assert any(not r.confident and r.response == "confirm" for r in unsure)


def test_result_reports_runner_up_and_sorted_candidates(brain: Brain) -> None:
    result = brain.matcher("en").match("how does methadone compare to suboxone")
    assert result.runner_up is not None and result.runner_up[0] != result.intent
    scores = [s for _, s in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert json.loads(json.dumps(result.as_json()))["intent"] == result.intent


def test_typos_and_slang_still_match(brain: Brain) -> None:
    matcher = brain.matcher("en")
    assert matcher.match("where cn i get narcn").intent == "naloxone"
    assert matcher.match("how do i get on methodone").intent == "methadone"


def test_context_boosts_follow_ups_of_the_last_answer(brain: Brain) -> None:
    matcher = brain.matcher("en")
    plain = matcher.intent_scores("what about the daily one")
    boosted = matcher.intent_scores("what about the daily one", frozenset({"methadone"}))
    index = matcher.ids.index("methadone")
    assert boosted[index] > plain[index]


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "So", "Mn"]), max_size=200),
        st.text(min_size=5000, max_size=12000),
        st.just("\u202e\u200b\u200d" * 100),
        st.just("שלום مرحبا narcan"),
    )
)
def test_any_string_yields_a_valid_result(brain: Brain, text: str) -> None:
    result = brain.matcher("en").match(text)
    assert 0.0 <= result.score <= 100.0
    assert result.intent is None or result.intent in brain.content.locale("en").intents
    assert result.response in brain.content.locale("en").responses or result.response in {
        "fallback",
        "confirm",
    }
    assert result.crisis == (result.crisis_reason is not None)


def test_stop_words_and_keyword_words_are_not_spell_corrected(brain: Brain) -> None:
    spanish = brain.matchers["es"]
    # "estoy" is a stop word, not a typo of "esto"; "quien" must stay "quien" for keyword phrases.
    assert spanish.speller.word("estoy") == "estoy"
    assert spanish.speller.word("cuando") == "cuando"
    assert spanish.prepare("si consumo solo y me pasa algo quien me ayuda")[1].split()[-3:] == [
        "quien",
        "me",
        "ayuda",
    ]


def test_letters_alone_never_make_a_crisis(brain: Brain) -> None:
    # "novia" and the crisis example "(ya) no (quiero estar) viva" share letters but no word.
    result = brain.matcher("es").match("tienes novia?")
    assert not result.crisis and result.intent is None
    assert brain.matcher("es").match("no quiero estar viva").crisis


@pytest.mark.parametrize(
    ("pattern", "plain"),
    [
        ("(a|b) c", "(?:a|b) c"),
        (r"\b(?<!if )(he|she)( is)?\b", r"\b(?<!if )(?:he|she)(?: is)?\b"),
        (r"\(x\) [(]y", r"\(x\) [(]y"),
        (r"(a)\1", r"(a)\1"),  # a back-reference needs its group
    ],
)
def test_crisis_patterns_are_compiled_without_captures(pattern: str, plain: str) -> None:
    assert without_captures(pattern) == plain


def test_crisis_patterns_without_captures_match_exactly_what_they_did(brain: Brain) -> None:
    texts = [p for m in brain.matchers.values() for i in m.intents for e in i.examples for p in m.prepare(e)]
    for matcher in brain.matchers.values():
        for intent in matcher.intents:
            for pattern in (*intent.patterns, *intent.guards, *intent.urgent):
                original, plain = re.compile(pattern), re.compile(without_captures(pattern))
                assert plain.groups == 0 or original.groups == plain.groups, pattern
                assert [bool(original.search(t)) for t in texts] == [bool(plain.search(t)) for t in texts]
