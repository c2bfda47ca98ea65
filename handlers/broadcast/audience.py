"""Who gets a broadcast, and what staff see before saying yes: counts, skips, SMS cost, quiet hours.

The preview is one aggregate query over the same audience query that queuing uses
(:mod:`handlers.broadcast.queue`), so what the preview counts is what gets queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import I18n
from bot.messages import Channel, Reply
from bot.sms_text import MAX_BODY, is_gsm, render_reply, segments
from bot.store import Store
from bot.text import fold
from handlers.broadcast.words import local_time, money, number

MAIN_LANGUAGE = "fr"  # the first text: the site's language, and what a person with no language gets
MAX_TEXT = MAX_BODY  # an SMS body above 1600 characters is refused by Twilio (21617)

GROUP_ROLES: dict[str, tuple[str, ...]] = {
    "residents": ("resident",),
    "workers": ("worker",),
    "volunteers": ("volunteer",),
    "staff": ("staff", "admin"),
}
CHANNELS = (Channel.TELEGRAM.value, Channel.SMS.value)
SKIP_REASONS = ("opted_out", "unreachable", "no_channel")

# What staff may type for an audience (folded): ``residents sms``, ``benevoles en``, ``tous``.
_WORDS: dict[str, tuple[str, str]] = {}
for _kind, _value, _synonyms in (
    ("group", "everyone", "everyone all tous tout toutes monde tlm everybody"),
    ("group", "residents", "residents resident residentes residente hebergees heberges"),
    ("group", "workers", "workers worker salaries salarie salariees conciergerie travailleurs travail"),
    ("group", "volunteers", "volunteers volunteer benevoles benevole"),
    ("group", "staff", "staff equipe team equipes"),
    ("language", "fr", "fr francais french francophones francophone"),
    ("language", "en", "en anglais english anglophones anglophone"),
    ("channel", "telegram", "telegram tg"),
    ("channel", "sms", "sms texto textos"),
):
    for _word in _synonyms.split():
        _WORDS[_word] = (_kind, _value)
_FILLER = frozenset({"le", "la", "les", "de", "des", "du", "par", "seulement", "only", "by", "via", "et", "and", "a"})


class BroadcastError(ValueError):
    """A text or an audience that cannot be used; ``key`` is a catalog message id (chat and CLI say the same)."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


# Audience --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    """Who gets it: a group, optionally narrowed to one language and one channel."""

    group: str = "everyone"
    language: str | None = None
    channel: str | None = None

    @classmethod
    def parse(cls, text: str) -> Audience:
        """``residents,sms``, ``bénévoles en``, ``tout le monde``, ``telegram`` (everyone by Telegram)."""
        found: dict[str, str] = {}
        words = [word for word in fold(text.replace(",", " ").replace("+", " ")).split() if word not in _FILLER]
        # "en" is English, or the French "en" of "en anglais" / "par SMS en français".
        if "en" in words and any(_WORDS.get(w, ("", ""))[0] == "language" for w in words if w != "en"):
            words = [word for word in words if word != "en"]
        for word in words:
            meaning = _WORDS.get(word)
            if meaning is None:
                raise BroadcastError("broadcast.bad_audience", value=word[:20])
            kind, value = meaning
            if found.get(kind, value) != value:
                raise BroadcastError("broadcast.bad_audience", value=word[:20])
            found[kind] = value
        if not found:
            raise BroadcastError("broadcast.bad_audience", value=text.strip()[:20])
        return cls(found.get("group", "everyone"), found.get("language"), found.get("channel"))

    def __str__(self) -> str:
        return ",".join(part for part in (self.group, self.language, self.channel) if part)

    def describe(self, i18n: I18n, language: str) -> str:
        parts = [i18n.t(language, f"broadcast.group_{self.group}")]
        if self.language:
            parts.append(i18n.t(language, f"broadcast.only_language_{self.language}"))
        if self.channel:
            parts.append(i18n.t(language, f"broadcast.only_channel_{self.channel}"))
        return ", ".join(parts)


# Each person of the audience with their identities on the allowed channels (found by person,
# through identities_person), ranked by a window function: reachable first, Telegram before SMS,
# and the first of them kept. A person with no such identity keeps one row of NULLs. Only the
# fixed fragments below are put into the text; every value is a parameter.
_AUDIENCE_SQL = """
SELECT person_id, lang, channel, address,
       CASE WHEN identity_id IS NULL THEN 'no_channel' WHEN reachable THEN NULL
            WHEN any_opted_out THEN 'opted_out' ELSE 'unreachable' END AS skip
FROM (
    SELECT p.id AS person_id, COALESCE(p.language, :fallback) AS lang,
           i.id AS identity_id, i.channel AS channel, i.address AS address,
           (i.opted_out_at IS NULL AND i.unreachable_at IS NULL) AS reachable,
           MAX(i.opted_out_at IS NOT NULL) OVER (PARTITION BY p.id) AS any_opted_out,
           ROW_NUMBER() OVER (
               PARTITION BY p.id
               ORDER BY (i.opted_out_at IS NULL AND i.unreachable_at IS NULL) DESC,
                        CASE i.channel WHEN 'telegram' THEN 0 ELSE 1 END, i.id
           ) AS rank
    FROM persons p
    LEFT JOIN identities i ON i.person_id = p.id AND i.channel IN ({channels})
    WHERE p.status = 'active' AND p.id > :after AND p.id <= :upto {filters}
)
WHERE rank = 1 {required}"""
_ROLE_FILTER = "AND EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = p.id AND r.role IN ({roles}))"
_LANGUAGE_FILTER = "AND COALESCE(p.language, :fallback) = :only_language"


def audience_query(audience: Audience, params: dict[str, Any]) -> str:
    """(person_id, lang, channel, address, skip) for each person of the audience with ids in (:after, :upto].

    ``skip`` is NULL for a person reached on ``channel``/``address`` (their best reachable identity:
    Telegram before SMS), else why not: opted_out, unreachable, no_channel. Only fixed fragments
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
    params.setdefault("fallback", MAIN_LANGUAGE)
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


def texts_of(french: str, english: str | None = None) -> dict[str, str]:
    texts = {MAIN_LANGUAGE: check_text(french)}
    if english is not None and english.strip():
        texts["en"] = check_text(english)
    return texts


@dataclass(frozen=True)
class SmsText:
    """One text as an SMS: what is typed, what leaves (GSM-7, like every SMS answer) and what it costs."""

    language: str
    typed: str
    sent: str
    segments: int
    typed_segments: int  # the typed text kept as it is: UCS-2 when one character is outside GSM-7
    outside: str  # the typed characters GSM-7 lacks, e.g. "ê ’"
    lost: bool  # some became "?" (emoji, symbols): the wording should change

    @classmethod
    def of(cls, language: str, typed: str) -> SmsText:
        sent = render_reply(Reply(typed))[:MAX_BODY]
        outside: list[str] = []
        for ch in typed:
            if not ch.isspace() and not is_gsm(ch) and ch not in outside:
                outside.append(ch)
        return cls(
            language=language,
            typed=typed,
            sent=sent,
            segments=segments(sent).count,
            typed_segments=segments(typed).count,
            outside=" ".join(outside[:12]),
            lost="?" in sent and sent.count("?") > typed.count("?"),
        )

    @property
    def would_be_ucs2(self) -> bool:
        return bool(self.outside)


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
    return language if language in texts else MAIN_LANGUAGE


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
    sql = f"SELECT channel, lang, skip, COUNT(*) AS n FROM ({audience_query(audience, params)}) GROUP BY 1, 2, 3"  # noqa: S608
    by_channel = {channel: 0 for channel in ([audience.channel] if audience.channel else CHANNELS)}
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


def render_preview(
    i18n: I18n, language: str, broadcast_id: int, preview: Preview, *, urgent: bool, tz: ZoneInfo
) -> str:
    """The preview staff confirm: how many per channel, who is left out and why, SMS segments, cost, quiet hours."""

    def t(key: str, **params: object) -> str:
        return i18n.t(language, key, **params)

    lines = [t("broadcast.preview_title", id=broadcast_id, audience=preview.audience.describe(i18n, language))]
    lines.append(t("broadcast.preview_people", count=number(preview.people, language)))
    for channel, count in preview.by_channel.items():
        if count or preview.audience.channel:
            lines.append(t(f"broadcast.preview_{channel}", count=number(count, language)))
    for text, count in preview.sms:
        lines.append(
            t(
                "broadcast.preview_sms_text",
                language_name=t(f"broadcast.language_{text.language}"),
                count=number(count, language),
                segments=text.segments,
            )
        )
    if preview.sms:
        lines.append(
            t(
                "broadcast.preview_cost",
                segments=number(preview.segments, language),
                cost=money(preview.cost, language),
                price=money(preview.price, language),
            )
        )
    if preview.skipped_total:
        reasons = ", ".join(
            t(f"broadcast.skip_{reason}", count=number(count, language))
            for reason, count in preview.skipped.items()
            if count
        )
        lines.append(t("broadcast.preview_skipped", count=number(preview.skipped_total, language), reasons=reasons))
    for text, _ in preview.sms:
        if text.would_be_ucs2:
            lines.append(
                t(
                    "broadcast.preview_ucs2",
                    language_name=t(f"broadcast.language_{text.language}"),
                    chars=text.outside,
                    typed_segments=text.typed_segments,
                    segments=text.segments,
                    sent=text.sent,
                )
            )
        if text.lost:
            lines.append(t("broadcast.preview_lost"))
    if preview.sms_wait_until is not None:
        lines.append(t("broadcast.preview_quiet", at=local_time(preview.sms_wait_until, tz, language)))
    elif urgent and preview.sms:
        lines.append(t("broadcast.preview_urgent"))
    return "\n".join(lines)
