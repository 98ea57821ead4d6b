"""Spanish: locale choice, /language, switching by text, crisis in both languages, cross-locale validation."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.brain import Brain
from bot.content.loader import load_content
from bot.engine import COMMANDS, Engine
from bot.errors import ContentError
from bot.events import ButtonPress, Command, TextMessage
from bot.nlu.language import language_from_code
from bot.session import Pending, Session
from bot.terminal import TerminalChat
from tests.minimal_content import write_minimal_content


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(Brain.load())


def reply_text(engine: Engine, text: str, session: Session) -> tuple[str, Session | None, str | None]:
    outcome = engine.handle(TextMessage(text), session)
    return outcome.replies[0].text, outcome.session, outcome.intent


def test_telegram_language_code_picks_spanish_only_when_content_has_it() -> None:
    available = frozenset({"en", "es"})
    assert language_from_code("es-MX", available) == "es"
    assert language_from_code("es", available) == "es"
    assert language_from_code("en-GB", available) == "en"
    assert language_from_code("fr", available) is None
    assert language_from_code(None, available) is None


def test_language_command_offers_buttons_and_the_button_switches_to_spanish(engine: Engine) -> None:
    outcome = engine.handle(Command("language"), Session(locale="en"))
    assert {(b.label, b.data) for b in outcome.replies[0].buttons} == {
        ("English", "l:en"),
        ("Español", "l:es"),
    }
    pressed = engine.handle(ButtonPress("l:es"), Session(locale="en"))
    assert pressed.session is not None and pressed.session.locale == "es"
    assert "español" in pressed.replies[0].text
    assert "language" in COMMANDS


@pytest.mark.parametrize("argument", ["es", "Español", "spanish", "ESPANOL"])
def test_language_command_with_argument_switches(engine: Engine, argument: str) -> None:
    outcome = engine.handle(Command("language", argument), Session(locale="en"))
    assert outcome.session is not None and outcome.session.locale == "es"


def test_spanish_session_gets_spanish_buttons_and_region_names(engine: Engine) -> None:
    forget = engine.handle(Command("forget"), Session(locale="es"))
    assert [b.label for b in forget.replies[0].buttons] == ["Sí, borrar todo", "No, mejor no"]
    regions = engine.handle(Command("region"), Session(locale="es"))
    assert "Estados Unidos" in [b.label for b in regions.replies[0].buttons]
    english = engine.handle(Command("region"), Session(locale="en"))
    assert "The United States" in [b.label for b in english.replies[0].buttons]


def test_us_resources_in_spanish_say_988_and_samhsa_speak_spanish(engine: Engine) -> None:
    text = engine.handle(Command("resources"), Session(locale="es", region="us")).replies[0].text
    assert "marca 2 para español" in text and "AYUDA" in text and "1-800-662-4357" in text


def test_clearly_spanish_message_switches_and_reply_is_spanish(engine: Engine) -> None:
    text, session, intent = reply_text(
        engine, "donde consigo naloxona gratis cerca de mi", Session(locale="en")
    )
    assert intent == "naloxone" and session is not None and session.locale == "es"
    assert "naloxona" in text.lower()


def test_spanish_message_naming_a_drug_english_also_knows_still_switches(engine: Engine) -> None:
    # "metadona" scores about as well in English as in Spanish; the Spanish words decide.
    outcome = engine.handle(TextMessage("hola necesito ayuda con la metadona"), Session(locale="en"))
    assert outcome.session is not None and outcome.session.locale == "es"


def test_clearly_english_message_switches_back(engine: Engine) -> None:
    text, session, intent = reply_text(engine, "where can i get narcan for my friend", Session(locale="es"))
    assert intent == "naloxone" and session is not None and session.locale == "en"
    assert "reverses an opioid overdose" in text


@pytest.mark.parametrize(
    "text", ["ok", "no", "si", "sí", "👍", "hola", "gracias", "narcan", "ok 👍", "no se"]
)
def test_short_or_ambiguous_messages_never_switch(engine: Engine, text: str) -> None:
    for locale in ("en", "es"):
        outcome = engine.handle(TextMessage(text), Session(locale=locale))
        assert outcome.session is not None and outcome.session.locale == locale


def test_spanish_yes_answers_a_pending_question_in_a_spanish_session(engine: Engine) -> None:
    session = Session(locale="es", pending=Pending("confirm", "naloxone"))
    _, after, intent = reply_text(engine, "sí", session)
    assert intent == "naloxone" and after is not None and after.locale == "es"


@pytest.mark.parametrize(
    "text",
    [
        "mi amigo no respira despues de usar",
        "ayuda no se despierta y tiene los labios morados",
        "creo que mi novio tiene una sobredosis ahorita",
        "le pusimos narcan y sigue sin despertar",
        "wey mi compa esta tirado y no contesta",
        # Words that also start informational or hypothetical questions ("que es", "si") must not hide
        # an emergency described in the present tense.
        "creo que es una sobredosis, no respira",
        "no respira, que es lo que hago",
        "mi amigo no reacciona, si le pego no se mueve",
    ],
)
def test_spanish_overdose_gets_spanish_crisis_reply_even_in_an_english_session(
    engine: Engine, text: str
) -> None:
    for pending in (None, Pending("forget"), Pending("confirm", "naloxone")):
        outcome = engine.handle(TextMessage(text), Session(locale="en", pending=pending))
        assert outcome.intent == "crisis_overdose", text
        assert outcome.replies[0].crisis and "Llama al" in outcome.replies[0].text


@pytest.mark.parametrize(
    "text",
    [
        "quiero matarme",
        "ya no quiero vivir",
        "todos estarian mejor sin mi",
        "pienso meterme una sobredosis a proposito",
        "no le veo sentido a seguir",
        "ojala no despertara manana",
    ],
)
def test_spanish_suicidal_thoughts_get_the_crisis_reply(engine: Engine, text: str) -> None:
    outcome = engine.handle(TextMessage(text), Session(locale="en"))
    assert outcome.intent == "crisis_suicide", text
    assert "{crisis_line}" not in outcome.replies[0].text and "988" in outcome.replies[0].text


def test_english_crisis_gets_english_reply_in_a_spanish_session(engine: Engine) -> None:
    outcome = engine.handle(TextMessage("my friend is not breathing"), Session(locale="es"))
    assert outcome.intent == "crisis_overdose" and "Call 911" in outcome.replies[0].text


@pytest.mark.parametrize(
    "text",
    [
        "me muero de ganas de ir a la playa",
        "si un dia mi amigo no respira despues de usar, como uso el narcan?",
        "mi perro no se mueve de la cama jaja",
        "que es una sobredosis",
        "me mata el calor hoy",
        "mi jefe me va a matar si llego tarde",
        "me muero de la risa con este video",
        "cuales son las senales de una sobredosis",
        "que hago si alguien no respira despues de usar",
        "mi tio tuvo una sobredosis hace cinco anos",
        "hace tiempo quise matarme pero ya no",
        "no responde mis mensajes desde ayer",
        "me voy a tirar a dormir un rato",
        "casi me muero de verguenza",
        "no quiero despertar temprano manana",
    ],
)
def test_spanish_look_alikes_are_not_crises(engine: Engine, text: str) -> None:
    for locale in ("es", "en"):
        outcome = engine.handle(TextMessage(text), Session(locale=locale))
        assert outcome.intent not in ("crisis_overdose", "crisis_suicide"), text
        # A direct check-in may ask; the emergency script may not.
        assert outcome.risk != "crisis", text


def test_terminal_chat_in_spanish() -> None:
    output = io.StringIO()
    chat = TerminalChat(Engine(Brain.load()), output, locale="es")
    lines = iter(["donde consigo naloxona", "/language", "1", "/quit"])
    chat.run(lambda prompt: next(lines))
    shown = output.getvalue()
    assert "Hola, soy Peerline" in shown and "naloxona" in shown and "Español" in shown
    assert "from now on" in shown  # button 1 is English


# -- validation ---------------------------------------------------------------------


def add_spanish(root: Path) -> Path:
    """A Spanish copy of the minimal tree; tests then break one thing in it."""
    for kind in ("intents", "responses"):
        (root / kind / "es").mkdir()
        for path in (root / kind / "en").iterdir():
            text = path.read_text().replace("locale: en", "locale: es")
            (root / kind / "es" / path.name).write_text(text)
    return root


def test_complete_translation_loads(tmp_path: Path) -> None:
    content = load_content(add_spanish(write_minimal_content(tmp_path)))
    assert set(content.locales) == {"en", "es"}


def test_missing_translated_intent_is_named_with_its_locale_and_fix(tmp_path: Path) -> None:
    root = add_spanish(write_minimal_content(tmp_path))
    path = root / "intents" / "es" / "main.yml"
    text = path.read_text()
    start = text.index("  - id: privacy")
    path.write_text(text[:start])
    with pytest.raises(ContentError) as error:
        load_content(root)
    message = str(error.value)
    assert "intents/es" in message and "missing intent 'privacy'" in message and "id: privacy" in message


def test_missing_translated_response_is_named(tmp_path: Path) -> None:
    root = add_spanish(write_minimal_content(tmp_path))
    path = root / "responses" / "es" / "all.yml"
    lines = path.read_text().splitlines()
    index = lines.index("  naloxone:")
    path.write_text("\n".join(lines[:index] + lines[index + 3 :]) + "\n")
    with pytest.raises(ContentError) as error:
        load_content(root)
    assert "locale 'es' is missing response 'naloxone'" in str(error.value)


def test_mismatched_placeholders_across_locales_are_an_error(tmp_path: Path) -> None:
    root = add_spanish(write_minimal_content(tmp_path))
    path = root / "responses" / "es" / "all.yml"
    path.write_text(path.read_text().replace("naloxone two. Crisis line {crisis_line}.", "naloxone dos."))
    with pytest.raises(ContentError) as error:
        load_content(root)
    message = str(error.value)
    assert "responses/es/all.yml" in message and "response 'naloxone' uses" in message
    assert "{crisis_line}" in message


def test_missing_labels_are_named(tmp_path: Path) -> None:
    root = add_spanish(write_minimal_content(tmp_path))
    path = root / "responses" / "es" / "all.yml"
    path.write_text(path.read_text().replace("  language_name: 'language_name label'\n", ""))
    with pytest.raises(ContentError) as error:
        load_content(root)
    assert "locale 'es' is missing button labels: language_name" in str(error.value)


def test_crisis_intent_that_is_not_crisis_in_spanish_is_an_error(tmp_path: Path) -> None:
    root = add_spanish(write_minimal_content(tmp_path))
    path = root / "intents" / "es" / "main.yml"
    path.write_text(path.read_text().replace("    crisis: true\n", "    crisis: false\n", 1))
    with pytest.raises(ContentError) as error:
        load_content(root)
    assert "intent 'crisis_overdose' has crisis: false here" in str(error.value)


def test_follow_up_to_unknown_intent_is_reported_per_locale(tmp_path: Path) -> None:
    root = add_spanish(write_minimal_content(tmp_path))
    path = root / "intents" / "es" / "main.yml"
    path.write_text(path.read_text().replace("intent: overdose_signs}", "intent: senales}"))
    with pytest.raises(ContentError) as error:
        load_content(root)
    assert "intents/es/main.yml" in str(error.value) and "unknown intent 'senales'" in str(error.value)


def test_region_values_for_an_unknown_locale_are_an_error(tmp_path: Path) -> None:
    root = write_minimal_content(tmp_path)
    path = root / "resources" / "regions.yml"
    path.write_text(
        path.read_text().replace(
            '    poison_line: "NHS 111"\n',
            '    poison_line: "NHS 111"\n    fr:\n      name: le Royaume-Uni\n',
        )
    )
    with pytest.raises(ContentError) as error:
        load_content(root)
    assert "region 'uk' has values for locale 'fr'" in str(error.value)
