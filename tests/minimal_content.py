"""A tiny but complete content tree, so validation tests can break one thing at a time."""

from __future__ import annotations

from pathlib import Path

from bot.content.checks import is_crisis_response
from bot.content.model import LABELS, SYSTEM_RESPONSES

INTENTS = """\
locale: en
intents:
  - id: crisis_overdose
    title: Overdose emergency
    response: crisis_overdose
    crisis: true
    patterns: ['\\\\bnot breathing\\\\b']
    guards: ['\\\\bsigns of\\\\b']
    examples:
      - my friend is not breathing
      - he wont wake up after using
  - id: naloxone
    title: Naloxone
    response: naloxone
    keywords: [naloxone]
    follow_ups:
      - {label: "Signs", intent: overdose_signs}
    examples:
      - where can i get naloxone
      - how do i use narcan
  - id: overdose_signs
    title: Overdose signs
    response: overdose_signs
    examples:
      - what are the signs of an overdose
      - how do i know someone is overdosing
  - id: bot_help
    title: What I can do
    response: bot_help
    examples:
      - what can you do
  - id: talk_to_human
    title: Talk to a person
    response: talk_to_human
    examples:
      - can i talk to a real person
  - id: privacy
    title: Privacy
    response: privacy
    examples:
      - is this anonymous
"""

SYNONYMS = """\
locale: en
synonyms:
  naloxone: [narcan]
replies:
  yes: [yes, yeah]
  no: [no, nope]
  more: [tell me more]
"""

REGIONS = """\
default: us
regions:
  us:
    name: the United States
    emergency_number: "911"
    crisis_line: "988"
    treatment_helpline: "SAMHSA"
    overdose_line: "NUA"
    treatment_finder: "findtreatment.gov"
    naloxone_access: "pharmacies"
    poison_line: "Poison Control"
    good_samaritan: "Good Samaritan laws"
  uk:
    name: the UK
    emergency_number: "999"
    crisis_line: "Samaritans"
    treatment_helpline: "FRANK"
    overdose_line: "none"
    treatment_finder: "FRANK"
    naloxone_access: "drug services"
    poison_line: "NHS 111"
    good_samaritan: "the crew is there to help"
"""


LEXICON = """\
classes:
  opioid: {depressant: true, en: opioids, es: opioides}
  benzodiazepine: {depressant: true, en: benzodiazepines, es: benzodiacepinas}
  stimulant: {depressant: false, en: stimulants, es: estimulantes}
substances:
  - id: methadone
    class: opioid
    en: methadone
    es: metadona
  - id: alprazolam
    class: benzodiazepine
    en: Xanax
    es: Xanax
    names: [xanax]
    ambiguous: [bars]
  - id: cocaine
    class: stimulant
    en: cocaine
    es: cocaína
    ambiguous: [coke]
cues:
  together: [with, mix, con]
  weak: [and, "y"]
  apart: [or]
  not_after: [the, at]
  not_before: [water]
never: [method]
"""

COMBINATIONS = """\
levels:
  dangerous: {en: Dangerous, es: Peligrosa}
  high: {en: High risk, es: Riesgo alto}
  caution: {en: Use caution, es: Con precaución}
  low: {en: Lower risk, es: Riesgo menor}
combinations:
  - pair: [opioid, benzodiazepine]
    risk: dangerous
    source: FDA Drug Safety Communication, 2016
    note:
      en: Raises overdose risk. Keep naloxone close and never use alone.
      es: Aumenta el riesgo de sobredosis. Ten naloxona cerca y no consumas a solas.
"""


def responses_yaml() -> str:
    ids = ["crisis_overdose", "naloxone", "overdose_signs", "bot_help", "talk_to_human", "privacy"]
    lines = ["locale: en", "labels:"]
    lines += [f"  {name}: '{name} label'" for name in LABELS]
    lines.append("responses:")
    for name in dict.fromkeys(ids + list(SYSTEM_RESPONSES)):  # crisis_overdose is in both
        crisis = is_crisis_response(name)  # every variant of a crisis reply must give both numbers
        one = f"{name} one. Call {{emergency_number}}. {{suggestion}}"
        two = f"{name} two. Crisis line {{crisis_line}}."
        lines.append(f"  {name}:")
        lines.append(f"    - '{one}{' Crisis line {crisis_line}.' if crisis else ''}'")
        lines.append(f"    - '{two}{' Call {emergency_number}.' if crisis else ''}'")
    return "\n".join(lines) + "\n"


def write_minimal_content(root: Path) -> Path:
    """Write the tree under `root` and return it."""
    (root / "intents" / "en").mkdir(parents=True)
    (root / "responses" / "en").mkdir(parents=True)
    (root / "resources").mkdir()
    (root / "intents" / "en" / "main.yml").write_text(INTENTS)
    (root / "intents" / "en" / "synonyms.yml").write_text(SYNONYMS)
    (root / "responses" / "en" / "all.yml").write_text(responses_yaml())
    (root / "resources" / "regions.yml").write_text(REGIONS)
    (root / "substances").mkdir()
    (root / "substances" / "lexicon.yml").write_text(LEXICON)
    (root / "substances" / "combinations.yml").write_text(COMBINATIONS)
    return root
