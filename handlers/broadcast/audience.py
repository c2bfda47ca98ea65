"""Who gets a broadcast, and what staff see before saying yes: counts, skips, SMS cost, quiet hours.

The preview is one aggregate query over the same audience query that queuing uses
(:mod:`handlers.broadcast.queue`), so what the preview counts is what gets queued.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import I18n
from bot.messages import Channel, Reply
from bot.outbox import PREFERENCE
from bot.sms_text import MAX_BODY, is_gsm, needs_ucs2, render_reply, segments, to_gsm
from bot.store import Store
from bot.text import fold
from handlers.broadcast.words import local_time, money, number

MAX_TEXT = MAX_BODY  # an SMS body above 1600 characters is refused by Twilio (21617)
MAX_SHOWN = 20  # characters the warning names one by one; more are "…"

GROUP_ROLES: dict[str, tuple[str, ...]] = {
    "residents": ("resident",),
    "workers": ("worker",),
    "volunteers": ("volunteer",),
    "staff": ("staff", "admin"),
}
CHANNELS = (Channel.TELEGRAM.value, Channel.WHATSAPP.value, Channel.SMS.value)
SKIP_REASONS = ("opted_out", "unreachable", "no_channel")

# What staff may type for an audience (folded): ``residents sms``, ``benevoles en``, ``tous``. A
# group or a channel is its key or its words in the keyword files (broadcast.audience_<key>); a
# language is its code or a name of it (the catalogs' languages, see ``I18n.language_named``).
GROUPS = ("everyone", *GROUP_ROLES)
FILLER = "broadcast.audience_filler"  # keywords: the little words left out ("tout le monde", "par SMS")


def _audience_words(i18n: I18n) -> dict[str, tuple[str, str]]:
    """Each word for a group or a channel, and what it means: ("group", "residents")."""
    found: dict[str, tuple[str, str]] = {}
    for kind, values in (("group", GROUPS), ("channel", CHANNELS)):
        for value in values:
            for word in (value, *sorted(i18n.words(f"broadcast.audience_{value}"))):
                found[word] = (kind, value)
    return found


class BroadcastError(ValueError):
    """A text or an audience that cannot be used; ``key`` is a catalog message id (chat and CLI say the same)."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


# Audience --------------------------------------------------------------------------------------


def _language_named(word: str, i18n: I18n) -> str | None:
    """A language's name ("anglais"), or a word for its readers ("anglophones", keyword files)."""
    found = i18n.language_named(word)
    if found is None:
        found = next((c for c in i18n.languages if word in i18n.words(f"broadcast.audience_language_{c}")), None)
    return found


@dataclass(frozen=True)
class Audience:
    """Who gets it: a group, optionally narrowed to one language and one channel."""

    group: str = "everyone"
    language: str | None = None
    channel: str | None = None

    @classmethod
    def parse(cls, text: str, i18n: I18n) -> Audience:
        """``residents,sms``, ``bénévoles en``, ``tout le monde``, ``telegram`` (everyone by Telegram)."""
        found: dict[str, str] = {}
        words = fold(text.replace(",", " ").replace("+", " ")).split()
        named = {word: code for word in words if (code := _language_named(word, i18n)) is not None}
        # A code that is also a little word ("en" of "en anglais", "par SMS en français") is that
        # word when a language is named; alone, it is the language ("bénévoles en").
        filler, vocabulary = i18n.words(FILLER), _audience_words(i18n)
        words = [w for w in words if w not in filler or (w in i18n.languages and not named)]
        for word in words:
            meaning = vocabulary.get(word)
            if meaning is None and word in i18n.languages:
                meaning = ("language", word)
            elif meaning is None and word in named:
                meaning = ("language", named[word])
            if meaning is None:
                raise BroadcastError("broadcast.bad_audience", value=word[:20])
            kind, value = meaning
            if found.get(kind, value) != value:
                raise BroadcastError("broadcast.bad_audience", value=word[:20])
            found[kind] = value
        if not found:
            raise BroadcastError("broadcast.bad_audience", value=text.strip()[:20])
        return cls(found.get("group", "everyone"), found.get("language"), found.get("channel"))

    @classmethod
    def stored(cls, text: str) -> Audience:
        """What :meth:`__str__` wrote (``residents,en,sms``): read back whatever LANGUAGES says now."""
        parts = text.split(",")
        channel = parts.pop() if len(parts) > 1 and parts[-1] in CHANNELS else None
        return cls(parts[0], parts[1] if len(parts) > 1 else None, channel)

    def __str__(self) -> str:
        return ",".join(part for part in (self.group, self.language, self.channel) if part)

    def describe(self, i18n: I18n, language: str) -> str:
        parts = [i18n.t(language, f"broadcast.group_{self.group}")]
        if self.language:
            name = i18n.language_name(self.language, language)
            parts.append(i18n.t(language, "broadcast.only_language", language_name=name))
        if self.channel:
            parts.append(i18n.t(language, f"broadcast.only_channel_{self.channel}"))
        return ", ".join(parts)


# Each person of the audience with their identities on the allowed channels (found by person,
# through identities_person), ranked by a window function: reachable first, then CHANNEL_ORDER,
# and the first of them kept. A person with no such identity keeps one row of NULLs. Only the
# fixed fragments below are put into the text; every value is a parameter.
_AUDIENCE_SQL = """
SELECT person_id, lang, channel, address,
       CASE WHEN identity_id IS NULL THEN 'no_channel' WHEN reachable THEN NULL
            WHEN any_opted_out THEN 'opted_out' ELSE 'unreachable' END AS skip
FROM (
    SELECT p.id AS person_id, COALESCE(p.language, :fallback) AS lang,
           i.id AS identity_id, i.channel AS channel, i.address AS address,
           (i.opted_out_at IS NULL AND i.unreachable_at IS NULL
            AND (i.channel != 'whatsapp' OR i.opted_in_at IS NOT NULL)) AS reachable,
           MAX(i.opted_out_at IS NOT NULL) OVER (PARTITION BY p.id) AS any_opted_out,
           ROW_NUMBER() OVER (
               PARTITION BY p.id
               ORDER BY (i.opted_out_at IS NULL AND i.unreachable_at IS NULL
                         AND (i.channel != 'whatsapp' OR i.opted_in_at IS NOT NULL)) DESC,
                        CASE i.channel WHEN 'telegram' THEN :rank_telegram WHEN 'whatsapp' THEN :rank_whatsapp
                                       ELSE :rank_sms END, i.id
           ) AS rank
    FROM persons p
    LEFT JOIN identities i ON i.person_id = p.id AND i.channel IN ({channels})
    WHERE p.status = 'active' AND p.id > :after AND p.id <= :upto {filters}
)
WHERE rank = 1 {required}"""
_ROLE_FILTER = "AND EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = p.id AND r.role IN ({roles}))"
_LANGUAGE_FILTER = "AND COALESCE(p.language, :fallback) = :only_language"


def audience_query(audience: Audience, params: dict[str, Any], main_language: str) -> str:
    """(person_id, lang, channel, address, skip) for each person of the audience with ids in (:after, :upto].

    ``lang`` is the person's language, or ``main_language`` (the first text's) when they chose none.

    ``skip`` is NULL for a person reached on ``channel``/``address`` (their best reachable identity:
    in CHANNEL_ORDER), else why not: opted_out, unreachable, no_channel. Only fixed fragments
    and placeholders are put into the text; every value is a parameter.
    """
    filters = []
    if audience.group != "everyone":
        roles = GROUP_ROLES[audience.group]
        params.update({f"role{i}": role for i, role in enumerate(roles)})
        filters.append(_ROLE_FILTER.format(roles=", ".join(f":role{i}" for i in range(len(roles)))))
    if audience.language:
        params["only_language"] = audience.language
        filters.append(_LANGUAGE_FILTER)
    channels = [audience.channel] if audience.channel else list(CHANNELS)
    params.update({f"channel{i}": channel for i, channel in enumerate(channels)})
    params["fallback"] = main_language
    params.update(
        {f"rank_{channel}": PREFERENCE.get(channel, len(PREFERENCE)) for channel in CHANNELS}
    )  # CHANNEL_ORDER
    return _AUDIENCE_SQL.format(
        filters=" ".join(filters),
        channels=", ".join(f":channel{i}" for i in range(len(channels))),
        # With a channel named, people who have no identity on it are not in the audience at all.
        required="AND identity_id IS NOT NULL" if audience.channel else "",
    )


# Texts, SMS segments, quiet hours ----------------------------------------------------------------


def check_text(text: str) -> str:
    """The text as it will be sent (trimmed), or :class:`BroadcastError` saying what is wrong with it."""
    text = text.strip()
    if not text or not any(ch.isalnum() for ch in text):
        raise BroadcastError("broadcast.empty_text")
    if text.startswith("/"):
        raise BroadcastError("broadcast.command_text")
    if len(text) > MAX_TEXT:
        raise BroadcastError("broadcast.long_text", max=MAX_TEXT, length=len(text))
    return text


def texts_of(given: Mapping[str, str | None], languages: Sequence[str]) -> dict[str, str]:
    """One text per language, in the order of ``languages``: the first (the default language) is required,
    the others are optional (whoever reads a language without a text gets the first)."""
    unknown = [code for code in given if code not in languages]
    if unknown:
        raise BroadcastError("broadcast.unknown_language", value=unknown[0][:20], known=", ".join(languages))
    texts = {languages[0]: check_text(given.get(languages[0]) or "")}
    for code in languages[1:]:
        text = given.get(code)
        if text is not None and text.strip():
            texts[code] = check_text(text)
    return texts


def main_language(texts: Mapping[str, str]) -> str:
    """The language of the first text: the default language when the broadcast was written."""
    return next(iter(texts))


@dataclass(frozen=True)
class SmsText:
    """One text as an SMS: what is typed, what leaves (GSM-7, like every SMS answer) and what it costs."""

    language: str
    typed: str
    sent: str
    segments: int
    typed_segments: int  # the typed text kept as it is: UCS-2 when one character is outside GSM-7
    replaced: tuple[tuple[str, str], ...]  # each typed character GSM-7 lacks, once, and what the SMS has instead

    @classmethod
    def of(cls, language: str, typed: str) -> SmsText:
        """A text in a script GSM-7 cannot spell (Arabic, Ge'ez) leaves as typed, in UCS-2: nothing is replaced."""
        sent = render_reply(Reply(typed))[:MAX_BODY]
        replaced = () if needs_ucs2(typed) else tuple((ch, to_gsm(ch)) for ch in dict.fromkeys(typed) if not is_gsm(ch))
        return cls(
            language=language,
            typed=typed,
            sent=sent,
            segments=segments(sent).count,
            typed_segments=segments(typed).count,
            replaced=replaced,
        )

    @property
    def outside(self) -> str:
        """The typed characters GSM-7 lacks, e.g. "ê ’"."""
        return " ".join(ch for ch, _ in self.replaced)

    @property
    def lost(self) -> bool:
        """Some became "?" (emoji, symbols): the wording should change."""
        return any(instead == "?" for _, instead in self.replaced)

    @property
    def would_be_ucs2(self) -> bool:
        return bool(self.replaced)


def replacements(i18n: I18n, language: str, text: SmsText, *, gsm_only: bool = False) -> str:
    """Each replaced character and what it becomes: "ê → e, ’ → ', ☺ → ?".

    A character that cannot be seen (a no-break space) is named by its code point, and so is every
    one when the reader's own messages are GSM-7 SMS (``gsm_only``), where it would arrive replaced.
    """

    def shown(ch: str) -> str:
        visible = not gsm_only and unicodedata.category(ch)[0] not in "CMZ"  # not a control, a mark or a space
        return ch if visible else f"U+{ord(ch):04X}"

    space = i18n.t(language, "broadcast.char_space")
    pairs = [
        i18n.t(language, "broadcast.char_replaced", char=shown(ch), sent=instead if instead.strip() else space)
        for ch, instead in text.replaced[:MAX_SHOWN]
    ]
    return ", ".join(pairs) + (", …" if len(text.replaced) > MAX_SHOWN else "")


@dataclass(frozen=True)
class QuietHours:
    """Local hours when broadcast SMS wait (default 21:00-08:00): across midnight when start > end."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str | None) -> QuietHours | None:
        if not text or not text.strip():
            return None
        start, _, end = text.strip().partition("-")
        hours = cls(time.fromisoformat(start), time.fromisoformat(end))
        return None if hours.start == hours.end else hours

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def until(self, now: datetime, tz: ZoneInfo) -> datetime | None:
        """The end of the quiet hours ``now`` is in (UTC), or None outside them; DST-proof."""
        local = now.astimezone(tz)
        moment = local.time().replace(tzinfo=None)
        if self.start > self.end:
            inside = moment >= self.start or moment < self.end
        else:
            inside = self.start <= moment < self.end
        if not inside:
            return None
        end = datetime.combine(local.date(), self.end, tzinfo=tz)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=tz)
        return end.astimezone(UTC)


# Preview ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    audience: Audience
    by_channel: dict[str, int]
    skipped: dict[str, int]
    sms: list[tuple[SmsText, int]]  # per text actually sent by SMS: the text and how many get it
    price: float
    sms_wait_until: datetime | None  # quiet hours now: SMS leave then (not urgent)

    @property
    def people(self) -> int:
        return sum(self.by_channel.values())

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def segments(self) -> int:
        return sum(text.segments * count for text, count in self.sms)

    @property
    def cost(self) -> float:
        return self.segments * self.price


def _text_language(language: str, texts: dict[str, str]) -> str:
    return language if language in texts else main_language(texts)


async def preview(
    store: Store,
    now: datetime,
    texts: dict[str, str],
    audience: Audience,
    *,
    price: float,
    quiet: QuietHours | None,
    tz: ZoneInfo,
    urgent: bool = False,
) -> Preview:
    """Who would get it now, on which channel, who would not and why, and what the SMS cost."""
    params: dict[str, Any] = {"after": 0, "upto": 2**63 - 1}
    query = audience_query(audience, params, main_language(texts))
    sql = f"SELECT channel, lang, skip, COUNT(*) AS n FROM ({query}) GROUP BY 1, 2, 3"  # noqa: S608
    # Telegram and SMS always have their line; WhatsApp once someone reads there (most sites have none).
    shown = [audience.channel] if audience.channel else [c for c in CHANNELS if c != Channel.WHATSAPP.value]
    by_channel = dict.fromkeys(shown, 0)
    skipped = dict.fromkeys(SKIP_REASONS, 0)
    sms_people: dict[str, int] = {}
    for row in await store.fetchall(sql, params):
        if row["skip"] is not None:
            skipped[row["skip"]] += row["n"]
            continue
        by_channel[row["channel"]] = by_channel.get(row["channel"], 0) + row["n"]
        if row["channel"] == Channel.SMS.value:
            language = _text_language(row["lang"], texts)
            sms_people[language] = sms_people.get(language, 0) + row["n"]
    sms = [(SmsText.of(language, texts[language]), count) for language, count in sorted(sms_people.items())]
    wait = quiet.until(now, tz) if quiet is not None and not urgent and sms_people else None
    return Preview(audience, by_channel, skipped, sms, price, wait)


def skip_reasons(i18n: I18n, language: str, skipped: Mapping[str, int]) -> str:
    """Who does not get it and why, "2 ont demandé STOP, 1 injoignable": the preview's and the report's."""
    return ", ".join(
        i18n.plural(language, f"broadcast.skip_{reason}", count, count=number(count, language))
        for reason, count in skipped.items()
        if count
    )


def render_preview(
    i18n: I18n,
    language: str,
    broadcast_id: int,
    preview: Preview,
    *,
    urgent: bool,
    tz: ZoneInfo,
    gsm_only: bool = False,
) -> str:
    """The preview staff confirm: how many per channel, who is left out and why, SMS segments, cost, quiet hours.

    ``gsm_only``: the staff member reads it by SMS, where the characters it warns of cannot be shown.
    """

    def t(key: str, **params: object) -> str:
        return i18n.t(language, key, **params)

    lines = [t("broadcast.preview_title", id=broadcast_id, audience=preview.audience.describe(i18n, language))]
    lines.append(
        i18n.plural(language, "broadcast.preview_people", preview.people, count=number(preview.people, language))
    )
    for channel, count in preview.by_channel.items():
        if count or preview.audience.channel:
            lines.append(t(f"broadcast.preview_{channel}", count=number(count, language)))
    for text, count in preview.sms:
        lines.append(
            i18n.plural(
                language,
                "broadcast.preview_sms_each",
                text.segments,
                language_name=i18n.language_name(text.language, language),
                count=number(count, language),
                segments=text.segments,
                cost=money(text.segments * count * preview.price, language),
            )
        )
    if preview.sms:
        lines.append(
            i18n.plural(
                language,
                "broadcast.preview_cost",
                preview.segments,
                segments=number(preview.segments, language),
                cost=money(preview.cost, language),
                price=money(preview.price, language),
            )
        )
    if preview.skipped_total:
        reasons = skip_reasons(i18n, language, preview.skipped)
        lines.append(t("broadcast.preview_skipped", count=number(preview.skipped_total, language), reasons=reasons))
    for text, _ in preview.sms:
        if text.would_be_ucs2:
            warning = {
                "language_name": i18n.language_name(text.language, language),
                "chars": replacements(i18n, language, text, gsm_only=gsm_only),
                "typed_segments": text.typed_segments,
                "segments": text.segments,
                "sent": text.sent,
            }
            if text.typed_segments == text.segments:  # short enough: replacing them saves nothing, says nothing of cost
                lines.append(t("broadcast.preview_ucs2_same", **warning))
            else:
                lines.append(i18n.plural(language, "broadcast.preview_ucs2", text.typed_segments, **warning))
        if text.lost:
            lines.append(t("broadcast.preview_lost"))
    if preview.sms_wait_until is not None:
        lines.append(t("broadcast.preview_quiet", at=local_time(preview.sms_wait_until, tz, language)))
    elif urgent and preview.sms:
        lines.append(t("broadcast.preview_urgent"))
    return "\n".join(lines)
