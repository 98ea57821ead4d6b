"""Turning found services into a Telegram-HTML answer, in the person's language.

Labels come from responses (`responses/<locale>/referrals.yml`); service details are the admins' own
text, escaped. Used by the engine and by the supporters' `/refer KIND CITY` command.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bot.content.html import escape
from bot.content.model import Locale, Region, SourceRef
from bot.content.placeholders import fill
from bot.referrals.model import SERVICE_KINDS, Directory, Service
from bot.referrals.search import Found, at_place

PAGE_SIZE = 3
KIND_PREFIX = "service_kind_"
# Every response the referral answers use; the default locale must have them all when there are services.
REFERRAL_RESPONSES: tuple[str, ...] = (
    "referral_find_button",
    "referral_skip_button",
    "referral_more_button",
    "referral_ask",
    "referral_ask_again",
    "referral_notice",
    "referral_results",
    "referral_none",
    "referral_end",
    "referral_skipped",
    "referral_open",
    "referral_open_all_day",
    "referral_closed_today",
    "referral_closed_tomorrow",
    "referral_closed_day",
    "referral_hours_unknown",
    "referral_weekdays",
    "referral_walk_in",
    "referral_appointment",
    "referral_walk_in_or_appointment",
    "referral_distance",
    "referral_languages",
    "referral_cost",
    *(KIND_PREFIX + kind for kind in SERVICE_KINDS),
)
ACCESS_RESPONSES = {
    "walk_in": "referral_walk_in",
    "appointment": "referral_appointment",
    "both": "referral_walk_in_or_appointment",
}


# Kind names and labels use no region placeholders, so an empty region fills them.
_NO_REGION = Region("", {}, SourceRef("", 0))


class ReferralTexts:
    """The first variant of a referral response, filled for a region; falls back to the default locale."""

    def __init__(self, locale: Locale, default: Locale, region: Region) -> None:
        self.locale = locale
        self.default = default
        self.region = region

    def __call__(self, response_id: str, **extra: str) -> str:
        response = self.locale.responses.get(response_id) or self.default.responses[response_id]
        return fill(response.variants[0], self.region, extra)

    def kind(self, kind: str) -> str:
        return self(KIND_PREFIX + kind)

    def weekday(self, index: int) -> str:
        names = [n.strip() for n in self("referral_weekdays").split(",")]
        return names[index] if len(names) == 7 else ""


def _status_line(service: Service, texts: ReferralTexts, now: datetime) -> str:
    if service.hours is None:
        return texts("referral_hours_unknown")
    status = service.hours.status(now)
    if status.open_now and status.closes is not None:
        local = now.astimezone(service.hours.zone)
        if status.closes - local >= timedelta(hours=24):
            return texts("referral_open_all_day")
        return texts("referral_open", time=f"{status.closes:%H:%M}")
    if status.next_opening is None:
        return texts("referral_hours_unknown")
    opening = status.next_opening
    today = now.astimezone(service.hours.zone).date()
    when = f"{opening:%H:%M}"
    if opening.date() == today:
        return texts("referral_closed_today", time=when)
    if opening.date() == today + timedelta(days=1):
        return texts("referral_closed_tomorrow", time=when)
    return texts("referral_closed_day", day=texts.weekday(opening.weekday()), time=when)


def _distance(km: float) -> str:
    miles = km / 1.609344
    return f"{km:.1f} km ({miles:.1f} mi)"


def _website_link(url: str) -> str:
    shown = urlsplit(url).netloc + urlsplit(url).path.rstrip("/")
    return f'<a href="{escape(url, quote=True)}">{escape(shown)}</a>'


def service_block(
    found: Found, texts: ReferralTexts, now: datetime, wanted: frozenset[str] = frozenset()
) -> str:
    """One service: name, what it offers (asked-for kinds first), open or not, how to reach it."""
    service = found.service
    kinds = sorted(service.kinds, key=lambda k: (k not in wanted, SERVICE_KINDS.index(k)))
    lines = [f"<b>{escape(service.name)}</b>", "<i>" + ", ".join(texts.kind(k) for k in kinds) + "</i>"]
    lines.append(_status_line(service, texts, now))
    address = escape(service.address)
    if found.distance_km is not None:
        address += " · " + texts("referral_distance", distance=_distance(found.distance_km))
    lines.append(address)
    if service.phone:
        lines.append(escape(service.phone))
    if service.website:
        lines.append(_website_link(service.website))
    details = [texts(ACCESS_RESPONSES[service.access])] if service.access else []
    if service.cost:
        details.append(texts("referral_cost", value=service.cost))
    if service.languages:
        details.append(texts("referral_languages", value=", ".join(service.languages)))
    if details:
        lines.append(" · ".join(details))
    if service.note:
        lines.append(escape(service.note))
    return "\n".join(lines)


def results_html(
    found: Sequence[Found], texts: ReferralTexts, now: datetime, wanted: frozenset[str] = frozenset()
) -> str:
    """The heading and one block per service, separated by blank lines."""
    blocks = [service_block(f, texts, now, wanted) for f in found]
    return "\n\n".join([texts("referral_results"), *blocks])


def referral_card(
    directory: Directory,
    kind: str,
    place_text: str,
    locale: Locale,
    default_locale: Locale,
    region: Region,
    now: datetime,
) -> str:
    """A supporter's `/refer KIND CITY`: the best three services, or the national locators if none fit.

    `kind` is one of SERVICE_KINDS (or "" for any); `place_text` is a city or postcode and is not kept.
    """
    texts = ReferralTexts(locale, default_locale, region)
    wanted = frozenset({kind}) if kind else frozenset()
    found = at_place(directory, wanted, place_text)
    if not found:
        return texts("referral_none")
    return results_html(found[:PAGE_SIZE], texts, now, wanted)


def kind_names(locale: Locale, default: Locale) -> Mapping[str, str]:
    """Display names of every kind, e.g. for a supporter's `/refer` help text."""
    return {kind: ReferralTexts(locale, default, _NO_REGION)(KIND_PREFIX + kind) for kind in SERVICE_KINDS}
