"""Long messages in pieces, and the scope words ("not", "what if") that change what a piece means.

Risk is judged on each sentence as well as on the whole message, so one line about ending things inside a
long post is not averaged away. Negation and hypothetical scope are decided here, once, for every layer,
instead of by look-behinds inside each crisis pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.nlu.normalise import basic_normalise

# Clauses: sentences, and the parts a comma or "but" joins, so "im not suicidal, i took all my pills" is
# two clauses and the negation of the first does not hide the second.
_BREAKS = re.compile(
    r"(?<=[.!?;:,\n…])\s+|\n+|\s+(?=(?:but|pero|and then|y luego|aunque|though)\b)", re.IGNORECASE
)
# A run-on post without punctuation is read in overlapping windows of this many words.
WINDOW_WORDS = 18
MIN_PIECE_WORDS = 2
MAX_PIECES = 24


def _any(*alternatives: str) -> re.Pattern[str]:
    """One word-bounded pattern from alternatives written one per line (on normalised text: no accents)."""
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


# Explicit statements that the risk is NOT there ("im not suicidal", "no quiero hacerme daño", "nobody is
# overdosing right now"), benign contexts ("as prescribed", cut while cooking) and figures of speech ("id
# kill for a coffee", "me muero de risa").
_NEGATED = _any(
    r"(?:im|i am|i m|am) not (?:suicidal|going to (?:kill|hurt|harm) myself|gonna (?:kill|hurt) myself"
    r"|trying to (?:die|kill myself|off myself|end (?:it|my life))"
    r"|thinking (?:about|of) (?:suicide|killing myself|ending (?:it|things|my life))"
    r"|in danger|gonna do anything)",
    r"not (?:suicidal|trying to (?:die|kill myself|off myself)|an emergency|having an emergency)",
    r"no emergency|never (?:suicidal|been suicidal)|no suicidal (?:thoughts|feelings)",
    r"(?:i )?(?:dont|do not|wont|will not|would never|never would) (?:want to |wanna )?"
    r"(?:kill|hurt|harm|off) myself",
    r"(?:i )?(?:dont|do not) (?:want to|wanna) (?:end my life|end it all|be dead)",
    # Fear of dying as the reason for a safety question: "i really dont want to od, how do i test my dope".
    r"(?:i )?(?:really )?(?:dont|do not) (?:want to|wanna) (?:die|overdose|od|o d)",
    r"(?:nobody|no one|noone|no body) (?:is|s) (?:overdosing|oding|dying|in danger|hurt)",
    r"(?:hes|shes|theyre|im|he is|she is|they are|i am) (?:fine|ok|okay|alright|good) now",
    r"(?:id|i would|i d) kill for|dying to (?:know|try|see|get)|killing me (?:lol|lmao|haha)",
    r"as prescribed|like (?:my|the) (?:doctor|dr|prescriber) (?:said|told me)|but not anymore|not anymore",
    r"(?:cut|burnt|burned) my (?:finger|hand|thumb) (?:cooking|chopping|shaving)",
    r"(?:my|our|the) (?:dog|cat|puppy|kitten|pet|hamster)|(?:mi|el|nuestro) (?:perro|gato|perrito|gatito)",
    r"no (?:soy|estoy) suicida|no (?:tengo|he tenido) (?:pensamientos|ideas) suicidas",
    r"no (?:me )?(?:quiero|voy a) (?:matar|matarme|suicidar|suicidarme|hacer dano|hacerme dano|lastimar"
    r"|lastimarme|quitar la vida|quitarme la vida)",
    r"no (?:pienso|he pensado|pense) (?:en (?:el suicidio|matarme|suicidarme)|hacerme dano)",
    r"no quiero acabar con mi vida|no es una emergencia",
    r"(?:nadie|ninguno) esta (?:en )?(?:sobredosis|muriendo)",
    r"no (?:me )?quiero morir (?:de|por|como|sola|solo)|ya (?:estoy|esta) bien|ahora estoy bien",
    r"me muero de (?:risa|sueno|hambre|verguenza|ganas|frio|calor|aburrimiento)",
    r"como me (?:dijo|indico|lo receto) el (?:doctor|medico)|como me (?:las|lo|los) recetaron|pero ya no",
    r"me (?:corte|queme) (?:con un cuchillo |el dedo |la mano )?(?:cocinando|picando|afeitandome)",
)
# Questions about what could happen, not what is happening: "what should i do if he stops breathing".
_HYPOTHETICAL = _any(
    r"(?:what|wat) if (?!i\b|im\b|i m\b)|what happens if",
    r"what (?:should|do) (?:i|we|you) do (?:if|when)|what to do (?:if|when)|in case",
    r"how (?:do|would|can|could) (?:i|you|we|u) (?:know|tell)",
    r"if (?:someone|somebody|anyone|a friend|my friend|a person|people|you|u|he|she|they)"
    r" (?:ever |were to |was to )?(?:od|ods|overdose|overdoses|overdosed|stops|stopped|starts|passes|passed"
    r"|has|had|took|takes|collapses|wont|doesnt|is not|isnt|cant)",
    r"que (?:hago|hacemos|hacer|debo hacer) (?:si|cuando)|en caso de|por si (?:acaso)?",
    r"como (?:se|sabe|saber|sabes|reconozco) si",
    r"si (?:alguien|un amigo|mi amigo|mi amiga|una persona|la gente|un dia|algun dia|alguna vez)",
)
# A death or an overdose told as the past (grief, stories, habits), or wondered about in the first person
# ("what if i took too much"): possible risk at most, never the emergency script on meaning alone.
_PAST = _any(
    r"(?:what|wat) if i|what happens if i|que pasa si (?:me|yo)|y si (?:me|yo)",
    r"(?<!desde )hace (?:tiempo|mucho) (?:quise|intente|pense|trate)",
    r"(?:a day|daily|a week) for (?:years|months)",
    r"died|passed away|passed on|grieving|grief|funeral|memorial|rip|anniversary of",
    r"(?<!since )last (?:week|month|year|summer|winter|spring|fall)",
    r"(?:years|months|weeks) ago|a (?:year|month) ago",
    r"murio|fallecio|velorio|luto|el (?:ano|mes) pasado|la semana pasada",
    r"(?<!desde )hace (?:anos|meses|semanas|un ano|un mes)",
)


@dataclass(frozen=True)
class Piece:
    """A clause (or a window of a run-on post) with its scope: negated, hypothetical, told as the past."""

    text: str
    negated: bool
    hypothetical: bool
    past: bool = False


def scope(text: str) -> tuple[bool, bool]:
    """(negated, hypothetical) for one piece of text."""
    plain = basic_normalise(text)
    return bool(_NEGATED.search(plain)), bool(_HYPOTHETICAL.search(plain))


def told_as_past(text: str) -> bool:
    return bool(_PAST.search(basic_normalise(text)))


def split_pieces(text: str) -> list[Piece]:
    """The sentences of a message (windows for long unpunctuated runs); one piece for a short message."""
    raw = [p.strip() for p in _BREAKS.split(text.strip()) if p and p.strip()]
    pieces: list[str] = []
    for part in raw:
        words = part.split()
        if len(words) <= WINDOW_WORDS + WINDOW_WORDS // 2:
            pieces.append(part)
            continue
        step = WINDOW_WORDS // 2
        for start in range(0, len(words) - step, step):
            pieces.append(" ".join(words[start : start + WINDOW_WORDS]))
    kept = [p for p in pieces if len(p.split()) >= MIN_PIECE_WORDS or len(pieces) == 1][:MAX_PIECES]
    return [Piece(p, *scope(p), told_as_past(p)) for p in kept]


def asking_piece(pieces: list[Piece]) -> int | None:
    """The index of the sentence that asks (the last one with a question mark), if the post has several."""
    if len(pieces) < 2:
        return None
    for n in range(len(pieces) - 1, -1, -1):
        if "?" in pieces[n].text or "¿" in pieces[n].text:
            return n
    return None
