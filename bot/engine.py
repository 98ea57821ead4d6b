"""The conversation engine: pure decisions from (event, session) to actions and a new session."""

from __future__ import annotations

from dataclasses import replace

from bot.brain import Brain
from bot.content.model import Intent, Locale, Region
from bot.content.render import render
from bot.events import (
    Action,
    Button,
    ButtonPress,
    Command,
    Event,
    ForgetUser,
    NonText,
    Outcome,
    Reply,
    RequestHandoff,
    TextMessage,
)
from bot.nlu.matcher import MatchResult
from bot.nlu.normalise import basic_normalise
from bot.session import Pending, Session
from bot.substances.advice import compose

HUMAN_INTENT = "talk_to_human"
HELP_INTENT = "bot_help"
PRIVACY_INTENT = "privacy"
MIXING_INTENT = "mixing_substances"
# Small talk is never offered as a "did you mean" topic.
NOT_SUGGESTED = frozenset({"greeting", "thanks", "goodbye"})
SUGGESTION_FLOOR = 35.0
MAX_SUGGESTIONS = 3

COMMANDS: dict[str, str] = {
    "start": "what this bot is and how it works",
    "help": "what you can ask",
    "resources": "emergency, crisis and treatment numbers",
    "region": "choose your region for local numbers",
    "human": "talk to a peer supporter",
    "privacy": "what is kept and how to delete it",
    "forget": "delete everything about you",
}


class Engine:
    """Turns one event and the session into an `Outcome`; never touches Telegram or Redis."""

    def __init__(self, brain: Brain) -> None:
        self.brain = brain

    def reload(self, brain: Brain) -> None:
        """Swap content atomically: a message in flight keeps the Brain it started with."""
        self.brain = brain

    def handle(self, event: Event, session: Session) -> Outcome:
        return _Turn(self.brain, session).run(event)

    def system_text(self, name: str, session: Session) -> str:
        """A system response for adapters that speak on their own (e.g. no supporters in a terminal)."""
        return _Turn(self.brain, session).text(name, session)[0]


class _Turn:
    """One event's worth of decisions, with the Brain and locale fixed for its whole life."""

    def __init__(self, brain: Brain, session: Session) -> None:
        self.brain = brain
        self.session = session
        self.locale: Locale = brain.content.locale(session.locale)
        self.region: Region = brain.content.region(session.region)

    # -- entry points -------------------------------------------------------------------

    def run(self, event: Event) -> Outcome:
        if isinstance(event, TextMessage):
            return self.on_text(event.text)
        if isinstance(event, ButtonPress):
            return self.on_button(event.data)
        if isinstance(event, Command):
            return self.on_command(event.name.lower(), event.args.strip())
        return self.on_non_text(event)

    def on_text(self, text: str) -> Outcome:
        matcher = self.brain.matcher(self.locale.code)
        boost = self._context_intents()
        result = matcher.match(text, boost)
        if result.crisis and result.intent:
            return self.answer(result.intent, match=result)
        words = basic_normalise(text)
        if not words:
            return self.system("empty", keep_pending=True)
        mixing = self.mixing(text, result)
        if mixing is not None:
            return mixing
        pending = self.session.pending
        reply_kind = self._short_reply(words)
        if pending and pending.kind == "forget" and reply_kind in ("yes", "no"):
            return self.on_forget_answer(reply_kind == "yes")
        if pending and pending.kind == "confirm" and pending.intent and reply_kind in ("yes", "no"):
            if reply_kind == "yes":
                return self.answer(pending.intent, match=result)
            return self.declined(result)
        if reply_kind in ("yes", "more") and self._next_step():
            return self.answer(self._next_step() or "", match=result)
        if result.intent and result.confident:
            return self.answer(result.intent, match=result)
        if result.intent:
            return self.confirm(result)
        return self.fallback(result)

    def on_button(self, data: str) -> Outcome:
        kind, _, value = data.partition(":")
        pending = self.session.pending
        if kind == "i" and value in self.locale.intents:
            return self.answer(value)
        if kind in ("y", "n") and pending and pending.kind == "confirm" and pending.intent:
            return self.answer(pending.intent) if kind == "y" else self.declined(None)
        if kind == "f" and value in ("yes", "no") and pending and pending.kind == "forget":
            return self.on_forget_answer(value == "yes")
        if kind == "r" and value in self.brain.content.regions:
            return self.set_region(value)
        return self.system("stale_button", buttons=self.topic_buttons(()))

    def on_command(self, name: str, args: str) -> Outcome:
        if name == "start":
            return self.system("welcome", buttons=self.start_buttons())
        if name == "help":
            return self.answer(HELP_INTENT)
        if name == "resources":
            return self.system("resources", keep_pending=True)
        if name == "region":
            code = args.lower()
            if code in self.brain.content.regions:
                return self.set_region(code)
            return self.system("region_choose", buttons=self.region_buttons())
        if name == "human":
            return self.answer(HUMAN_INTENT)
        if name == "privacy":
            return self.answer(PRIVACY_INTENT)
        if name == "forget":
            session = replace(self.session, pending=Pending("forget"))
            buttons = (Button("Yes, delete everything", "f:yes"), Button("No, keep it", "f:no"))
            return self.system("forget_confirm", buttons=buttons, session=session)
        return self.system("unknown_command", buttons=self.topic_buttons(()))

    def on_non_text(self, event: NonText) -> Outcome:
        return self.system("non_text", keep_pending=True)

    def on_forget_answer(self, confirmed: bool) -> Outcome:
        if confirmed:
            text = self.text("forgotten", self.session)[0]
            return Outcome((ForgetUser(), Reply(text)), None)
        return self.system("forget_cancelled")

    # -- replies ------------------------------------------------------------------------

    def answer(self, intent_id: str, match: MatchResult | None = None) -> Outcome:
        """Send an intent's response with its follow-up buttons."""
        intent = self.locale.intents[intent_id]
        text, session = self.text(intent.response, self.session.after_intent(intent_id))
        buttons = tuple(
            Button(f.label, f"i:{f.intent}") for f in intent.follow_ups if f.intent in self.locale.intents
        )
        actions: list[Action] = [Reply(text, buttons, crisis=intent.crisis)]
        if intent_id == HUMAN_INTENT:
            actions.append(RequestHandoff())
        return Outcome(tuple(actions), session, intent_id, match)

    def confirm(self, result: MatchResult) -> Outcome:
        """A plausible but unsure match: ask "Did you mean ...?" with yes/no buttons."""
        assert result.intent is not None
        intent = self.locale.intents[result.intent]
        buttons = [Button("Yes", "y")]
        runner = result.runner_up
        if runner and runner[1] >= self.brain.matcher(self.locale.code).settings.confirm:
            other = self.locale.intents.get(runner[0])
            if other and not other.crisis and other.id not in NOT_SUGGESTED:
                buttons.append(Button(other.title, f"i:{other.id}"))
        buttons.append(Button("No", "n"))
        session = replace(self.session, pending=Pending("confirm", intent.id, runner[0] if runner else None))
        text, session = self.text("confirm", session, suggestion=intent.title)
        return Outcome((Reply(text, tuple(buttons)),), session, None, result)

    def declined(self, result: MatchResult | None) -> Outcome:
        alternative = self.session.pending.alternative if self.session.pending else None
        exclude = {self.session.pending.intent} if self.session.pending else set()
        buttons = self.topic_buttons(((alternative, 100.0),) if alternative else (), exclude)
        session = replace(self.session, pending=None)
        text, session = self.text("confirm_declined", session)
        return Outcome((Reply(text, buttons),), session, None, result)

    def fallback(self, result: MatchResult) -> Outcome:
        """No match: closest topics, a person, the crisis line; a second miss offers a person first."""
        misses = self.session.fallbacks + 1
        session = replace(self.session, pending=None, fallbacks=misses)
        name = "fallback" if misses == 1 else "fallback_again"
        topics = self.topic_buttons(result.candidates)
        human = self.human_button()
        buttons = (*topics, human) if misses == 1 else (human, *topics)
        text, session = self.text(name, session)
        return Outcome((Reply(text, buttons),), session, None, result)

    def mixing(self, text: str, result: MatchResult) -> Outcome | None:
        """Two or more known substances taken together: each combination, most dangerous first."""
        advisor = self.brain.mixing
        advice = advisor.advise(text) if advisor else None
        if advisor is None or advice is None:
            return None
        session = self.session.after_intent(MIXING_INTENT)

        def say(response_id: str, substances: str) -> str:
            nonlocal session
            piece, session = self.text(response_id, session, substances=substances)
            return piece

        text = compose(advisor, advice, self.locale.code, say)
        topic = self.locale.intents.get(MIXING_INTENT)
        buttons = (self.human_button(), *([Button(topic.title, f"i:{MIXING_INTENT}")] if topic else []))
        return Outcome((Reply(text, buttons),), session, MIXING_INTENT, result)

    def set_region(self, code: str) -> Outcome:
        session = replace(self.session, region=code)
        region = self.brain.content.region(code)
        text, session = self.text("region_set", session, region=region)
        return Outcome((Reply(text),), session)

    def system(
        self,
        name: str,
        buttons: tuple[Button, ...] = (),
        session: Session | None = None,
        keep_pending: bool = False,
    ) -> Outcome:
        base = session or (self.session if keep_pending else replace(self.session, pending=None))
        text, base = self.text(name, base)
        return Outcome((Reply(text, buttons),), base)

    def text(
        self,
        response_id: str,
        session: Session,
        region: Region | None = None,
        suggestion: str = "",
        substances: str = "",
    ) -> tuple[str, Session]:
        """Pick the next variant of a response and fill it for the person's region."""
        response = (
            self.locale.responses.get(response_id) or self.brain.content.locale(None).responses[response_id]
        )
        index, session = session.variant_after(response_id, len(response.variants))
        extra = {k: v for k, v in (("suggestion", suggestion), ("substances", substances)) if v} or None
        return render(response.variants[index], region or self.region, extra), session

    # -- buttons ------------------------------------------------------------------------

    def topic_buttons(
        self, candidates: tuple[tuple[str, float], ...], exclude: set[str | None] | None = None
    ) -> tuple[Button, ...]:
        chosen: list[Intent] = []
        skip = exclude or set()
        for intent_id, score in candidates:
            intent = self.locale.intents.get(intent_id)
            if (
                intent is None
                or intent.crisis
                or intent.id in NOT_SUGGESTED
                or intent.id in skip
                or intent.id == HUMAN_INTENT
                or score < SUGGESTION_FLOOR
            ):
                continue
            chosen.append(intent)
            if len(chosen) == MAX_SUGGESTIONS:
                break
        if not chosen and HELP_INTENT in self.locale.intents:
            chosen.append(self.locale.intents[HELP_INTENT])
        return tuple(Button(i.title, f"i:{i.id}") for i in chosen)

    def human_button(self) -> Button:
        intent = self.locale.intents.get(HUMAN_INTENT)
        return Button(intent.title if intent else "Talk to a person", f"i:{HUMAN_INTENT}")

    def start_buttons(self) -> tuple[Button, ...]:
        wanted = ("naloxone", "find_treatment", HUMAN_INTENT)
        return tuple(
            Button(self.locale.intents[i].title, f"i:{i}") for i in wanted if i in self.locale.intents
        )

    def region_buttons(self) -> tuple[Button, ...]:
        regions = self.brain.content.regions.values()
        return tuple(Button(r.name[:1].upper() + r.name[1:], f"r:{r.code}") for r in regions)

    # -- context ------------------------------------------------------------------------

    def _context_intents(self) -> frozenset[str]:
        """Follow-ups of the last answer get a small boost: "what about methadone" after bupe."""
        last = self.session.last_intent
        intent = self.locale.intents.get(last) if last else None
        return frozenset(f.intent for f in intent.follow_ups) if intent else frozenset()

    def _next_step(self) -> str | None:
        last = self.session.last_intent
        intent = self.locale.intents.get(last) if last else None
        if intent and intent.follow_ups and not intent.crisis:
            return intent.follow_ups[0].intent
        return None

    def _short_reply(self, words: str) -> str | None:
        for kind, phrases in self.locale.short_replies.items():
            if words in phrases:
                return kind
        return None
