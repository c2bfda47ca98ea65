"""SMS cost benchmark (not a test): segments of every orientation answer, as sent and unrendered.

    .venv/bin/python bench/sms_cost.py [--all] [--csv FILE]

Every answer the orientation feature can give, in every configured language, enumerated as
tests/test_orientation.py does (``every_answer``: 115, street, emergency, every site topic, every
crisis, day-centre lists for each service, hour, arrondissement, women and young people, nearest
places), plus the welcome with the main menu, each distinct text once. "As sent" is what the
bot sends by SMS: GSM-7 rendering (bot/sms_text.py), numbered choices, pages of at most two
segments ending in the "SUITE" line; its segments are those of every page. "One SMS" is the
rendered text unpaged (paging's own cost is the difference). "Unrendered" is the same text and
choices sent as written: one message, UCS-2 as soon as one character is outside GSM-7 (ê, ’, «...).
Targets: in a language of Latin script, every answer GSM-7 as sent; in the others (Arabic, Dari,
Pashto, Tigrinya: UCS-2, 70 characters a segment, 67 when split), every SMS page at most three
segments, the rest paged behind the "more" word. The answers paged besides lists and crises are
listed: the city page's address alone is 120 characters.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from _common import print_machine

from bot.app import build_core
from bot.clock import FakeClock
from bot.config import Settings
from bot.messages import Channel, Inbound, Reply
from bot.sms_text import MAX_BODY, is_gsm, paginate, render_reply, segments
from tests.test_orientation import I18N, WEDNESDAY_10H, every_answer


@dataclass
class Cost:
    language: str
    name: str
    pages: int
    page_segments: int  # the longest page's
    sent_segments: int
    sent_gsm: bool
    whole_segments: int
    raw_segments: int
    raw_encoding: str
    raw_chars: int

    @property
    def kind(self) -> str:
        return self.name.split(":", 1)[0]


def unrendered(replies: list[Reply]) -> str:
    """The replies as an SMS body without the GSM-7 rendering: the same lines, characters as written."""
    parts = []
    for reply in replies:
        lines = [reply.text] if reply.text else []
        lines.extend(f"{i} {choice.label}" for i, choice in enumerate(reply.choices, start=1))
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def cost(language: str, name: str, replies: list[Reply]) -> Cost:
    """As the dispatcher sends an SMS answer (bot/dispatch.py ``_page_for_sms``), and unrendered."""
    body = "\n\n".join(render_reply(reply) for reply in replies)
    pages = paginate(body, I18N.t(language, "core.more"))
    raw = unrendered(replies)
    raw_cost = segments(raw)
    return Cost(
        language,
        name,
        len(pages),
        max(segments(page).count for page in pages),
        sum(segments(page).count for page in pages),
        all(is_gsm(page) for page in pages),
        segments(body).count,
        raw_cost.count,
        raw_cost.encoding,
        len(raw),
    )


async def welcomes() -> dict[str, list[Reply]]:
    """The welcome with the main menu, from the real dispatcher, for a greeting in each language."""
    with tempfile.TemporaryDirectory(prefix="voisins-bench-") as tmp:
        settings = Settings(_env_file=None, database_path=str(Path(tmp, "cost.db")))  # type: ignore[call-arg]
        core = await build_core(settings, FakeClock(WEDNESDAY_10H))
        try:
            found = {}
            for language in I18N.languages:
                greeting = min(I18N.words("orientation.intent.greeting", language), key=lambda w: (len(w), w))
                inbound = Inbound(
                    channel=Channel.CONSOLE, address=f"cost-{language}", text=greeting, language_hint=language
                )
                found[language] = await core.dispatcher.handle(inbound)
        finally:
            await core.close()
    return found


def answers() -> list[Cost]:
    costs = []
    welcome = asyncio.run(welcomes())
    for language in I18N.languages:
        unique: dict[Reply, str] = {}
        for name, reply in every_answer(language).items():
            unique.setdefault(reply, name)  # many lists read the same at different hours
        costs.append(cost(language, "welcome", welcome[language]))
        costs.extend(cost(language, name, [reply]) for reply, name in unique.items())
    return costs


def summary(costs: list[Cost], show_all: bool) -> None:
    head = f"     {'kind':<19}{'answers':>7}  {'as sent':<20}{'SMS (pages)':<20}{'longest page':<20}{'unrendered':<20}"
    missed: list[str] = []
    for language in I18N.languages:
        mine = [c for c in costs if c.language == language]
        sent, raw = sum(c.sent_segments for c in mine), sum(c.raw_segments for c in mine)
        whole = sum(c.whole_segments for c in mine)
        ucs2 = sum(c.raw_encoding == "UCS-2" for c in mine)
        latin = I18N.script(language) == "Latn"
        print(
            f"  {language} ({I18N.language_name(language, 'en')}): {len(mine)} distinct answers; segments as sent"
            f" {sent:,} (one SMS each {whole:,}), unrendered {raw:,}; {ucs2} in UCS-2 unrendered;"
            f" {sum(c.pages > 1 for c in mine)} paged; longest page {max(c.page_segments for c in mine)} segments"
        )
        print(head + "UCS-2 unrendered")
        for kind in sorted({c.kind for c in mine}, key=lambda k: (k in ("list", "everything", "near"), k)):
            group = [c for c in mine if c.kind == kind]
            print(
                f"     {kind:<19}{len(group):>7}  {spread([c.sent_segments for c in group]):<20}"
                f"{spread([c.pages for c in group]):<20}{spread([c.page_segments for c in group]):<20}"
                f"{spread([c.raw_segments for c in group]):<20}{sum(c.raw_encoding == 'UCS-2' for c in group)}"
            )
        if show_all:
            for c in mine:
                print(
                    f"       {c.name:<60} sent {c.sent_segments} seg in {c.pages} SMS;"
                    f" unrendered {c.raw_segments} seg {c.raw_encoding}"
                )
        if latin:
            missed += [f"{language} {c.name}: not GSM-7 as sent" for c in mine if not c.sent_gsm]
        else:
            missed += [
                f"{language} {c.name}: a page of {c.page_segments} segments" for c in mine if c.page_segments > 3
            ]
            paged = [c.name for c in mine if c.pages > 1 and c.kind not in ("list", "everything", "near", "crisis")]
            print(f"     paged beyond three segments, besides lists and crises: {len(paged)} ({', '.join(paged)})")
    fixed = [c for c in costs if c.kind not in ("list", "everything", "near")]
    print(
        f"  the {len(fixed)} answers that are not lists of places, all languages: as sent at most"
        f" {max(c.sent_segments for c in fixed)} segments, {sum(c.sent_segments for c in fixed)} in all,"
        f" {sum(c.pages > 1 for c in fixed)} paged; unrendered up to {max(c.raw_segments for c in fixed)} segments,"
        f" {sum(c.raw_segments for c in fixed)} in all"
    )
    too_long = [c for c in costs if c.raw_chars > MAX_BODY]
    if too_long:
        print(f"  unrendered, {len(too_long)} answers are over Twilio's 1,600 characters (refused, error 21617)")
    print(f"  answers that miss their target: {len(missed)}" + "".join(f"\n    {line}" for line in missed))
    print(
        "  targets: every answer GSM-7 as sent (Latin script); every SMS page at most 3 segments, longer"
        f" answers paged (other scripts) -> {'met' if not missed else 'MISSED'}"
    )


def spread(values: list[int]) -> str:
    if min(values) == max(values):
        return f"{values[0]}"
    return f"{min(values)}-{max(values)} (med {statistics.median(values):g})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="print every answer's figures")
    parser.add_argument("--csv", type=Path, help="write every answer's figures to this CSV file")
    args = parser.parse_args()
    print_machine("SMS cost: segments of every orientation answer per language, as sent and unrendered")
    costs = answers()
    summary(costs, args.all)
    if args.csv:
        with args.csv.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(
                ["language", "answer", "sms", "segments_sent", "gsm7_sent", "segments_unpaged", "segments_raw", "raw"],
            )
            for c in costs:
                row = [c.language, c.name, c.pages, c.sent_segments, c.sent_gsm, c.whole_segments, c.raw_segments]
                writer.writerow([*row, c.raw_encoding])
        print(f"  every answer: {args.csv}")


if __name__ == "__main__":
    main()
