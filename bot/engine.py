"""The conversation engine: pure decisions from (event, session) to actions and a new session."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

from bot.brain import Brain
from bot.content.html import to_plain_text
from bot.content.model import Intent, Locale, Region, Response
from bot.content.placeholders import fill
from bot.events import (
    Action,
    Button,
    ButtonPress,
    Command,
    EndHandoff,
    Event,
    Feedback,
    ForgetUser,
    LeaveQueue,
    Location,
    NonText,
    Outcome,
    Reply,
    RequestHandoff,
    TextMessage,
)
from bot.nlu.language import locale_from_argument, marker_counts, written_in
from bot.nlu.matcher import MatchResult
from bot.nlu.normalise import basic_normalise
from bot.nlu.risk import CHECK_IN, CRISIS
from bot.referrals.card import PAGE_SIZE, ReferralTexts, results_html
from bot.referrals.search import Found, at_place, knows_place, near_location
from bot.session import Pending, Session
from bot.substances.advice import compose

HUMAN_INTENT = "talk_to_human"
CRISIS_SUICIDE = "crisis_suicide"
CRISIS_OVERDOSE = "crisis_overdose"
CRISIS_MEANS = "crisis_means"
CHECK_IN_INTENT = "check_in"
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
    "end": "end the chat with a peer supporter",
    "language": "choose your language (English, Español)",
}


class Engine:
    """Turns one event and the session into an `Outcome`; never touches Telegram or Redis."""

    def __init__(self, brain: Brain, clock: Callable[[], datetime] | None = None) -> None:
        self.brain = brain
        self.clock = clock or (lambda: datetime.now(UTC))  # passed in so tests fix "open now"

    def reload(self, brain: Brain) -> None:
        """Swap content atomically: a message in flight keeps the Brain it started with."""
        self.brain = brain

    def handle(self, event: Event, session: Session) -> Outcome:
        return _Turn(self.brain, session, self.clock()).run(event)

    def system_text(self, name: str, session: Session, extra: Mapping[str, str] | None = None) -> str:
        """A system response for adapters that speak on their own (e.g. the supporters' desk)."""
        return _Turn(self.brain, session, self.clock()).text(name, session, extra=extra)[0]

    def feedback_buttons(self, session: Session) -> tuple[Button, ...]:
        """Helpful / not helpful, asked after a conversation with a supporter."""
        locale = self.brain.content.locale(session.locale)
        return (
            Button(locale.label("feedback_helpful"), "fb:y"),
            Button(locale.label("feedback_not_helpful"), "fb:n"),
        )

    def wait_buttons(self, session: Session) -> tuple[Button, ...]:
        """Keep waiting / leave the queue, offered when nobody has claimed the conversation yet."""
        locale = self.brain.content.locale(session.locale)
        return (
            Button(locale.label("handoff_keep_waiting"), "hw:stay"),
            Button(locale.label("handoff_leave_queue"), "hw:leave"),
        )


class _Turn:
    """One event's worth of decisions, with the Brain and locale fixed for its whole life."""

    def __init__(self, brain: Brain, session: Session, now: datetime) -> None:
        self.brain = brain
        self.session = session
        self.now = now
        self.locale: Locale = brain.content.locale(session.locale)
        self.region: Region = brain.content.region(session.region).in_locale(self.locale.code)

    # -- entry points -------------------------------------------------------------------

    def run(self, event: Event) -> Outcome:
        if isinstance(event, TextMessage):
            return self.on_text(event.text)
        if isinstance(event, ButtonPress):
            return self.on_button(event.data)
        if isinstance(event, Command):
            return self.on_command(event.name.lower(), event.args.strip())
        if isinstance(event, Location):
            return self.on_location(event)
        return self.on_non_text(event)

    def on_text(self, text: str, may_switch: bool = True) -> Outcome:
        matcher = self.brain.matcher(self.locale.code)
        boost = self._context_intents()
        result = matcher.match(text, boost)
        if result.risk == CRISIS and result.intent == CRISIS_MEANS and not self.session.at_risk:
            # "i have a gun" on its own is a question to ask, not an emergency script; after risk it is one.
            result = replace(result, intent=CHECK_IN_INTENT, crisis=False, risk=CHECK_IN)
        if result.risk == CRISIS and result.intent:
            switch = self.crisis_language(text) if may_switch else None
            if switch:
                return _Turn(self.brain, replace(self.session, locale=switch), self.now).on_text(text, False)
            return self.crisis(result.intent, result)
        other, crisis = self.other_language(text, result) if may_switch else (None, None)
        if other:
            # Clearly written in another language (a crisis included): answer, and carry on, in that one.
            turn = _Turn(self.brain, replace(self.session, locale=other), self.now)
            return turn.on_text(text, may_switch=False)
        if crisis and crisis in self.locale.intents:
            # Another language's matcher saw a crisis in words that are not clearly its own: answer it here.
            return self.crisis(crisis, result)
        words = basic_normalise(text)
        if not words:
            return self.system("empty", keep_pending=True)
        pending = self.session.pending
        reply_kind = self._short_reply(words)
        if pending and pending.kind == "check_in":
            # An answer that reads as a risk ("no... i just cant anymore") is a yes, whatever it starts with.
            answer = self._check_in_answer(words, reply_kind)
            if reply_kind is None and result.risk == CHECK_IN:
                answer = "yes"
            answered = self.on_check_in_answer(answer, result)
            if answered is not None:
                return answered
        mixing = self.mixing(text, result)
        if result.risk == CHECK_IN and reply_kind is None and mixing is None:
            return self.check_in(result)
        if mixing is not None:
            return mixing
        if pending and pending.kind == "place":
            return self.on_place_text(text, reply_kind, result)
        if pending and pending.kind == "forget" and reply_kind in ("yes", "no"):
            return self.on_forget_answer(reply_kind == "yes")
        if pending and pending.kind == "handoff" and reply_kind in ("yes", "no"):
            return self.on_handoff_answer(reply_kind == "yes")
        if pending and pending.kind == "confirm" and pending.intent and reply_kind in ("yes", "no"):
            if reply_kind == "yes":
                return self.answer(pending.intent, match=result)
            return self.declined(result)
        if reply_kind in ("yes", "more") and self._next_step():
            return self.answer(self._next_step() or "", match=result)
        if self.session.at_risk and not (
            result.intent and result.confident and result.intent not in NOT_SUGGESTED
        ):
            return self.crisis_followup(result)
        if result.intent and result.confident:
            return self.answer_or_search(text, result)
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
        if kind == "h" and value in ("yes", "no") and pending and pending.kind == "handoff":
            return self.on_handoff_answer(value == "yes")
        if kind == "hw" and value == "stay":
            return self.system("handoff_keep_waiting", keep_pending=True)
        if kind == "hw" and value == "leave":
            return Outcome((LeaveQueue(),), self.session)
        if kind == "fb" and value in ("y", "n"):
            text, session = self.text("feedback_thanks", replace(self.session, pending=None))
            return Outcome((Feedback(value == "y"), Reply(text)), session)
        if kind == "l" and value in self.brain.content.locales:
            return self.set_language(value)
        if kind == "ck" and value in ("yes", "other", "no"):
            answered = self.on_check_in_answer(value, None)
            if answered is not None:
                return answered
        if kind in ("p", "ps", "pm"):
            return self.on_place_button(kind, value)
        return self.system("stale_button", buttons=self.topic_buttons(()))

    def on_command(self, name: str, args: str) -> Outcome:
        """A command; words after it ("/help my friend is not breathing") are checked for crisis first."""
        outcome = self._command(name, args)
        if not args:
            return outcome
        urgent = self.on_text(args)
        crisis = tuple(r for r in urgent.replies if r.crisis)
        if not crisis:
            return outcome
        session = outcome.session
        if session is not None and urgent.session is not None:  # the crisis becomes the context
            session = replace(
                session,
                recent_intents=urgent.session.recent_intents,
                at_risk=urgent.session.at_risk,
                pending=urgent.session.pending if urgent.risk == CHECK_IN else session.pending,
            )
        actions = (*crisis, *outcome.actions)
        return replace(
            outcome,
            actions=actions,
            session=session,
            intent=outcome.intent or urgent.intent,
            risk=urgent.risk,
        )

    def _command(self, name: str, args: str) -> Outcome:
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
        if name == "language":
            wanted = locale_from_argument(args, self.language_names())
            if wanted:
                return self.set_language(wanted)
            return self.system("language_choose", buttons=self.language_buttons())
        if name == "forget":
            session = replace(self.session, pending=Pending("forget"))
            buttons = (
                Button(self.locale.label("forget_yes"), "f:yes"),
                Button(self.locale.label("forget_no"), "f:no"),
            )
            return self.system("forget_confirm", buttons=buttons, session=session)
        if name == "end":
            return Outcome((EndHandoff(),), replace(self.session, pending=None))
        return self.system("unknown_command", buttons=self.topic_buttons(()))

    def on_handoff_answer(self, confirmed: bool) -> Outcome:
        """After "what to expect": yes queues the person (the adapter says their place), no keeps the bot."""
        if confirmed:
            return Outcome((RequestHandoff(),), replace(self.session, pending=None), HUMAN_INTENT)
        return self.system("handoff_declined", buttons=self.topic_buttons(()))

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
        intent = self.locale.intents.get(intent_id)
        if intent is None:  # e.g. a suggestion still pending when a reload removed its intent
            return self.system("stale_button", buttons=self.topic_buttons(()))
        text, session = self.text(intent.response, self.session.after_intent(intent_id))
        buttons = tuple(
            Button(f.label, f"i:{f.intent}") for f in intent.follow_ups if f.intent in self.locale.intents
        )
        if intent.services and self.brain.directory.has_any(intent.services):
            buttons = (*buttons, Button(self.short_text("referral_find_button"), f"p:{intent_id}"))
        if intent_id == HUMAN_INTENT:
            # Say what to expect and ask first: a peer, not a clinician; anonymous; a wait.
            buttons = (
                Button(self.locale.label("handoff_connect"), "h:yes"),
                Button(self.locale.label("handoff_not_now"), "h:no"),
            )
            session = replace(session, pending=Pending("handoff"))
        actions: list[Action] = [Reply(text, buttons, crisis=intent.crisis)]
        return Outcome(tuple(actions), session, intent_id, match)

    def crisis(self, intent_id: str, match: MatchResult | None) -> Outcome:
        """The crisis reply for this kind of emergency; the conversation stays marked at risk.

        Someone already answered for this same kind gets the shorter `crisis_again` instead of the whole
        script a second time; a different kind of emergency gets its own full reply.
        """
        repeat = self.session.at_risk and intent_id in self.session.recent_intents
        outcome = self.answer(intent_id, match=match)
        session = replace(outcome.session or self.session, at_risk=True)
        if repeat and "crisis_again" in self.locale.responses:
            text, session = self.text("crisis_again", session)
            reply = Reply(text, (self.human_button(),), crisis=True)
            return Outcome((reply,), session, intent_id, match, CRISIS)
        replies = tuple(
            replace(r, buttons=self._with_human(r.buttons)) if isinstance(r, Reply) else r
            for r in outcome.actions
        )
        return replace(outcome, actions=replies, session=session, risk=CRISIS)

    def check_in(self, result: MatchResult) -> Outcome:
        """Possible risk: ask directly and warmly, with the crisis line shown at once.

        Someone already marked at risk is not asked again: they get the short crisis reply.
        """
        if self.session.at_risk and "crisis_again" in self.locale.responses:
            text, session = self.text("crisis_again", replace(self.session, pending=None))
            return Outcome(
                (Reply(text, (self.human_button(),), crisis=True),), session, result.intent, result, CRISIS
            )
        buttons = (
            Button(self.locale.label("check_in_yes"), "ck:yes"),
            Button(self.locale.label("check_in_other"), "ck:other"),
            Button(self.locale.label("check_in_no"), "ck:no"),
        )
        session = replace(self.session, pending=Pending("check_in", result.topic))
        text, session = self.text("check_in", session)
        return Outcome((Reply(text, buttons, crisis=True),), session, result.intent, result, CHECK_IN)

    def _check_in_answer(self, words: str, kind: str | None) -> str | None:
        """ "yes", "other" or "no" for a typed answer to the check-in; None when it is not an answer."""
        first = words.split()[0]
        if kind == "someone_else":
            return "other"
        if kind in ("yes", "unsure") or (kind is None and self._short_reply(first) in ("yes", "unsure")):
            return "yes"
        if kind in ("no", "fine") or (kind is None and self._short_reply(first) in ("no", "fine")):
            return "no"
        return None

    def on_check_in_answer(self, answer: str | None, result: MatchResult | None) -> Outcome | None:
        """Yes (or unsure): the suicide crisis reply and a person; someone else: the emergency reply;
        no: glad, the door stays open, and the question they came with is answered."""
        if answer is None:
            return None
        if answer == "yes" and CRISIS_SUICIDE in self.locale.intents:
            return self.crisis(CRISIS_SUICIDE, result)
        if answer == "other" and CRISIS_OVERDOSE in self.locale.intents:
            return self.crisis(CRISIS_OVERDOSE, result)
        topic = self.session.pending.intent if self.session.pending else None
        ok, session = self.text("check_in_ok", replace(self.session, pending=None))
        if topic and topic in self.locale.intents:
            answered = _Turn(self.brain, session, self.now).answer(topic, match=result)
            return replace(answered, actions=(Reply(ok), *answered.actions))
        return Outcome((Reply(ok, self.topic_buttons(())),), session, None, result)

    def _with_human(self, buttons: tuple[Button, ...]) -> tuple[Button, ...]:
        human = self.human_button()
        return buttons if any(b.data == human.data for b in buttons) else (*buttons, human)

    def answer_or_search(self, text: str, result: MatchResult) -> Outcome:
        """A confident answer; "detox in manchester" (a service and a known place) searches straight away;
        a long post's second need is offered as a button."""
        assert result.intent is not None
        intent = self.locale.intents.get(result.intent)
        directory = self.brain.directory
        if intent and intent.services and directory.has_any(intent.services) and knows_place(directory, text):
            session = self.session.after_intent(intent.id)
            pending = replace(session, pending=Pending("place", intent.id))
            found = at_place(directory, frozenset(intent.services), text)
            return replace(_Turn(self.brain, pending, self.now).place_answer(found, result), intent=intent.id)
        outcome = self.answer(result.intent, match=result)
        second = self.locale.intents.get(result.second or "")
        if second is None or second.crisis or second.check_in or second.id in NOT_SUGGESTED:
            return outcome
        reply = outcome.replies[0]
        extra = Button(second.title, f"i:{second.id}")
        if any(b.data == extra.data for b in reply.buttons):
            return outcome
        return replace(
            outcome, actions=(replace(reply, buttons=(extra, *reply.buttons)), *outcome.actions[1:])
        )

    def confirm(self, result: MatchResult) -> Outcome:
        """A plausible but unsure match: ask "Did you mean ...?" with yes/no buttons."""
        assert result.intent is not None
        intent = self.locale.intents[result.intent]
        buttons = [Button(self.locale.label("confirm_yes"), "y")]
        runner = result.runner_up
        if runner and runner[1] >= self.brain.matcher(self.locale.code).settings.confirm:
            other = self.locale.intents.get(runner[0])
            if other and not other.crisis and other.id not in NOT_SUGGESTED:
                buttons.append(Button(other.title, f"i:{other.id}"))
        buttons.append(Button(self.locale.label("confirm_no"), "n"))
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

    def crisis_followup(self, result: MatchResult) -> Outcome:
        """Right after a crisis reply, "nobody cares" or "goodbye forever" gets the crisis line again, not
        "did you mean" or a cheerful goodbye; the crisis stays the context until another topic comes up."""
        text, session = self.text("crisis_followup", replace(self.session, pending=None))
        return Outcome((Reply(text, (self.human_button(),)),), session, None, result)

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
        region = self.brain.content.region(code).in_locale(self.locale.code)
        text, session = self.text("region_set", session, region=region)
        return Outcome((Reply(text),), session)

    def set_language(self, code: str) -> Outcome:
        """Switch the session's language; the confirmation is already in the new one."""
        return _Turn(self.brain, replace(self.session, locale=code), self.now).system("language_set")

    def crisis_language(self, text: str) -> str | None:
        """Another locale whose marker words the crisis message has more of: answer the crisis in it."""
        markers = marker_counts(text, self.brain.language_markers)
        mine = markers.get(self.locale.code, 0)
        others = [c for c in self.brain.content.locales if c != self.locale.code]
        best = max(others, key=lambda code: markers.get(code, 0), default=None)
        return best if best is not None and markers.get(best, 0) > mine else None

    def other_language(self, text: str, result: MatchResult) -> tuple[str | None, str | None]:
        """(a locale to switch to, a crisis intent another locale found): every locale checks for crisis.

        A crisis found in another locale switches to it when the message has more of that language's
        marker words than of the current one's; otherwise the crisis is answered in the current language
        (English with a Spanish-looking typo stays English). Without a crisis, switch only when the text
        is clearly in the other language (`written_in`).
        """
        locales = self.brain.content.locales
        if len(locales) < 2:
            return None, None
        results = {self.locale.code: result}
        crisis: str | None = None
        for code in locales:
            if code != self.locale.code:
                found = self.brain.matcher(code).match(text, meaning=False)
                # Only the other locale's own words count (its patterns and examples, read lexically): its
                # meaning layer reads the same embedding as this locale's and would only add false alarms.
                if found.crisis and found.intent:
                    markers = marker_counts(text, self.brain.language_markers)  # rare: only for a crisis
                    if markers.get(code, 0) > markers.get(self.locale.code, 0):
                        return code, None
                    crisis = crisis or found.intent
                results[code] = found
        if crisis:
            return None, crisis
        return written_in(text, self.locale.code, self.brain.language_markers, results), None

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
        extra: Mapping[str, str] | None = None,
        substances: str = "",
    ) -> tuple[str, Session]:
        """Pick the next variant of a response and fill it for the person's region."""
        response = self._response(response_id)
        index, session = session.variant_after(response_id, len(response.variants))
        named = {k: v for k, v in (("suggestion", suggestion), ("substances", substances)) if v}
        values = {**(extra or {}), **named}
        return fill(response.variants[index], region or self.region, values), session

    def short_text(self, response_id: str) -> str:
        """A one-line response used as a button label (its first variant, as plain text)."""
        return to_plain_text(self._response(response_id).variants[0]).strip()

    def _response(self, response_id: str) -> Response:
        return (
            self.locale.responses.get(response_id) or self.brain.content.locale(None).responses[response_id]
        )

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
        return Button(intent.title if intent else self.locale.label("talk_to_person"), f"i:{HUMAN_INTENT}")

    def start_buttons(self) -> tuple[Button, ...]:
        wanted = ("naloxone", "find_treatment", HUMAN_INTENT)
        return tuple(
            Button(self.locale.intents[i].title, f"i:{i}") for i in wanted if i in self.locale.intents
        )

    def region_buttons(self) -> tuple[Button, ...]:
        regions = (r.in_locale(self.locale.code) for r in self.brain.content.regions.values())
        return tuple(Button(r.name[:1].upper() + r.name[1:], f"r:{r.code}") for r in regions)

    def language_names(self) -> dict[str, str]:
        """Each locale by its own name ("English", "Español"), as people look for their language."""
        return {code: loc.label("language_name") for code, loc in self.brain.content.locales.items()}

    def language_buttons(self) -> tuple[Button, ...]:
        return tuple(Button(name, f"l:{code}") for code, name in self.language_names().items())

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

    # -- referrals: the place a person sends is used for this answer and never kept ---------

    def referral_texts(self) -> ReferralTexts:
        return ReferralTexts(self.locale, self.brain.content.locale(None), self.region)

    def on_place_button(self, kind: str, value: str) -> Outcome:
        """p:INTENT asks where; pm:INTENT:OFFSET asks again for the next page; ps skips."""
        if kind == "ps":
            return self.place_skipped()
        intent_id, _, offset = value.partition(":")
        intent = self.locale.intents.get(intent_id)
        if intent is None or not intent.services or not self.brain.directory.has_any(intent.services):
            return self.system("stale_button", buttons=self.topic_buttons(()))
        page = int(offset) if kind == "pm" and offset.isdigit() else 0
        session = replace(self.session, pending=Pending("place", intent_id, offset=page))
        text, session = self.text("referral_ask_again" if page else "referral_ask", session)
        text = self.with_notice(text, session)
        session = replace(session, place_notice_shown=True)
        return Outcome((Reply(text, (Button(self.short_text("referral_skip_button"), "ps"),)),), session)

    def on_place_text(self, text: str, reply_kind: str | None, result: MatchResult) -> Outcome:
        """The answer to "where?": skip words skip, a known place is searched, a clear question answered."""
        if reply_kind in ("no", "skip"):
            return self.place_skipped()
        directory = self.brain.directory
        if not knows_place(directory, text):
            if result.intent and result.confident:
                return self.answer(result.intent, match=result)
            if reply_kind in ("yes", "more"):
                return self.system("referral_ask_again", keep_pending=True)
        return self.place_answer(at_place(directory, self.wanted_kinds(), text), result)

    def on_location(self, event: Location) -> Outcome:
        found = near_location(self.brain.directory, self.wanted_kinds(), event.latitude, event.longitude)
        return self.place_answer(found, None)

    def wanted_kinds(self) -> frozenset[str]:
        """The kinds asked about: the pending question's intent, else the last topic, else any kind."""
        pending = self.session.pending
        intent_id = pending.intent if pending and pending.kind == "place" else self.session.last_intent
        intent = self.locale.intents.get(intent_id) if intent_id else None
        return frozenset(intent.services) if intent else frozenset()

    def place_answer(self, found: list[Found], match: MatchResult | None) -> Outcome:
        """The best three from where the last page ended, with "More" when there are further ones."""
        pending = self.session.pending
        place_pending = pending if pending and pending.kind == "place" else None
        offset = place_pending.offset if place_pending else 0
        session = replace(self.session, pending=None)
        page = found[offset : offset + PAGE_SIZE]
        buttons: tuple[Button, ...] = ()
        if not found:
            text, session = self.text("referral_none", session)
        elif not page:
            text, session = self.text("referral_end", session)
        else:
            text = results_html(page, self.referral_texts(), self.now, self.wanted_kinds())
            if len(found) > offset + PAGE_SIZE and place_pending and place_pending.intent:
                more = f"pm:{place_pending.intent}:{offset + PAGE_SIZE}"
                buttons = (Button(self.short_text("referral_more_button"), more),)
        text = self.with_notice(text, session)
        session = replace(session, place_notice_shown=True)
        return Outcome((Reply(text, buttons),), session, None, match)

    def place_skipped(self) -> Outcome:
        return self.system("referral_skipped")

    def with_notice(self, text: str, session: Session) -> str:
        """The first time a place is asked for or used, say it is used for this answer only."""
        if session.place_notice_shown:
            return text
        return text + "\n\n" + self.referral_texts()("referral_notice")
