"""``voisins broadcast ...``: staff announcements from the command line.

The command line queues; ``voisins run`` sends. ``send`` shows the preview, asks, then writes the
broadcast and its recipients into the database the running bot uses (SQLite in WAL mode: both
processes may write), and the bot's outbox picks the rows up within a second. It then follows
the table with a progress bar until everything is sent, failed, skipped or cancelled (``--no-wait``
returns at once); Ctrl-C stops following, never the broadcast. With no bot running nothing
leaves, and the bar says so after a while.

Why not send from here: one sender per channel keeps the rate limits true (two processes at 30
a second each would send 60), and a closed terminal never leaves a half-sent broadcast behind.
Texts come from the catalogs in ``DEFAULT_LANGUAGE``, as the chat says them.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from bot.cli_support import MAX_ID, ask_yes_no, opened_store, plain_console, settings_or_exit
from bot.clock import SystemClock
from bot.config import Settings
from bot.i18n import I18n
from handlers.broadcast import logic as bc

broadcast_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)

POLL_SECONDS = 0.5
STALL_SECONDS = 30.0  # no progress for this long: say that the bot may not be running


def _print(console: Console, text: str) -> None:
    console.print(Text(text))


def _translations(given: list[str]) -> dict[str, str]:
    """``["en=Party on Thursday"]`` -> ``{"en": "Party on Thursday"}``."""
    found: dict[str, str] = {}
    for item in given:
        code, equals, text = item.partition("=")
        if not equals or not code.strip():
            raise typer.BadParameter(
                f"{item[:40]!r}: LANG=TEXT, such as en=Party on Thursday", param_hint="--translation"
            )
        found[code.strip()] = text
    return found


def _ask(question: str) -> bool:
    """A yes/no question; no answer (end of input, Ctrl-C) is no."""
    try:
        return ask_yes_no(question)
    except (click.exceptions.Abort, EOFError):
        return False


@broadcast_app.command("send")
def send(
    audience: Annotated[
        str,
        typer.Option(
            "--audience",
            help="everyone, residents, workers, volunteers or staff; narrowed by a language of LANGUAGES,"
            " telegram or sms (combine with commas: residents,sms).",
        ),
    ],
    text: Annotated[
        str, typer.Option("--text", help="The text in DEFAULT_LANGUAGE; whoever reads a language without one gets it.")
    ],
    translations: Annotated[
        list[str] | None,
        typer.Option(
            "--translation",
            metavar="LANG=TEXT",
            help="The text for the people who read LANG (another language of LANGUAGES); repeat per language.",
        ),
    ] = None,
    urgent: Annotated[
        bool, typer.Option("--urgent", help="SMS leave even during the quiet hours (SMS_QUIET_HOURS).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Send without asking (for scripts).")] = False,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the sending with a progress bar.")] = True,
) -> None:
    """Preview an announcement, confirm it, queue it for the running bot and follow it."""
    settings = settings_or_exit()
    i18n = I18n.configured(settings)
    lang = i18n.default_language
    out = plain_console()
    try:
        texts = bc.texts_of({**_translations(translations or []), lang: text}, i18n.languages)
        chosen = bc.Audience.parse(audience, i18n)
    except bc.BroadcastError as exc:
        typer.echo(i18n.t(lang, exc.key, **exc.params), err=True)
        raise typer.Exit(2) from None
    quiet = bc.QuietHours.parse(settings.sms_quiet_hours)
    clock = SystemClock()

    async def prepare() -> tuple[int, bc.Preview]:
        async with opened_store(settings) as store:
            now = clock.now()
            broadcast_id = await bc.create_draft(
                store, now, texts, chosen, timezone=settings.timezone, created_by=None, urgent=urgent
            )
            found = await bc.preview(
                store,
                now,
                texts,
                chosen,
                price=settings.sms_price_per_segment,
                quiet=quiet,
                tz=settings.tz,
                urgent=urgent,
            )
            return broadcast_id, found

    async def discard(broadcast_id: int) -> None:
        async with opened_store(settings) as store:
            await bc.discard_draft(store, broadcast_id)

    broadcast_id, found = asyncio.run(prepare())
    _print(out, bc.render_preview(i18n, lang, broadcast_id, found, urgent=urgent, tz=settings.tz))
    if found.people == 0 or not (yes or _ask(i18n.t(lang, "broadcast.cli_confirm"))):
        asyncio.run(discard(broadcast_id))
        _print(out, i18n.t(lang, "broadcast.cli_nothing_sent"))
        raise typer.Exit(1)

    async def queue() -> bc.Report | None:
        async with opened_store(settings) as store:
            if not await bc.confirm(store, clock.now(), broadcast_id, quiet=quiet):
                return None
            await bc.expand(store, clock, broadcast_id)
            return await bc.report(store, clock.now(), broadcast_id)

    report = asyncio.run(queue())
    if report is None:
        _print(out, i18n.t(lang, "broadcast.already", id=broadcast_id))
        raise typer.Exit(1)
    _print(out, i18n.t(lang, "broadcast.cli_queued", id=broadcast_id))
    if wait:
        _follow(settings, i18n, broadcast_id)
    else:
        _print(out, bc.render_report(i18n, lang, report, clock.now(), texts=False))


def _follow(settings: Settings, i18n: I18n, broadcast_id: int) -> None:
    """A progress bar over the outbox rows, read from the table every half second."""
    lang = i18n.default_language
    clock = SystemClock()

    async def follow(bar: Progress, task: TaskID) -> bc.Report:
        loop = asyncio.get_running_loop()
        last_handled, last_change, warned = -1, loop.time(), False
        async with opened_store(settings) as store:
            while True:
                report = await bc.report(store, clock.now(), broadcast_id)
                assert report is not None
                bar.update(task, total=max(report.queued, 1), completed=report.handled)
                only_held = report.broadcast.status == "sending" and 0 < report.waiting == report.held
                if report.finished or only_held:
                    return report
                if report.handled != last_handled:
                    last_handled, last_change = report.handled, loop.time()
                elif not warned and loop.time() - last_change > STALL_SECONDS:
                    warned = True
                    bar.console.print(Text(i18n.t(lang, "broadcast.cli_stalled", seconds=int(STALL_SECONDS))))
                await asyncio.sleep(POLL_SECONDS)

    out = plain_console()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(i18n.t(lang, "broadcast.cli_progress", id=broadcast_id), total=None)
        try:
            report = asyncio.run(follow(bar, task))
        except KeyboardInterrupt:
            bar.stop()
            _print(out, i18n.t(lang, "broadcast.cli_detached", id=broadcast_id))
            return
    _print(out, bc.render_report(i18n, lang, report, clock.now(), texts=False))
    if report.held and report.held_until is not None:
        at = bc.local_time(report.held_until, settings.tz, lang, clock.now())
        held = bc.number(report.held, lang)
        _print(out, i18n.plural(lang, "broadcast.cli_held", report.held, count=held, at=at, id=broadcast_id))


@broadcast_app.command("status")
def status(
    broadcast_id: Annotated[
        int | None, typer.Argument(help="The announcement's number; without it, the latest ones.", min=1, max=MAX_ID)
    ] = None,
) -> None:
    """Where an announcement stands: sent, delivered, failed, skipped and why, cancelled, still waiting."""
    settings = settings_or_exit()
    i18n = I18n.configured(settings)
    lang = i18n.default_language
    now = SystemClock().now()

    async def run() -> list[bc.Report] | None:
        async with opened_store(settings) as store:
            if broadcast_id is None:
                found = [await bc.report(store, now, b.id) for b in await bc.recent(store, limit=20)]
                return [r for r in found if r is not None]
            one = await bc.report(store, now, broadcast_id)
            return [one] if one is not None and one.broadcast.status != "draft" else None

    reports = asyncio.run(run())
    out = plain_console()
    if reports is None:
        typer.echo(i18n.t(lang, "broadcast.not_found", id=broadcast_id), err=True)
        raise typer.Exit(1)
    if broadcast_id is None:
        _print(out, bc.render_list(i18n, lang, reports) if reports else i18n.t(lang, "broadcast.list_empty"))
    else:
        _print(out, bc.render_report(i18n, lang, reports[0], now))


@broadcast_app.command("cancel")
def cancel(
    broadcast_id: Annotated[
        int, typer.Argument(help="The announcement's number (voisins broadcast status).", min=1, max=MAX_ID)
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Stop it without asking (for scripts).")] = False,
) -> None:
    """Stop an announcement under way: what is not sent yet is not sent (asks first)."""
    settings = settings_or_exit()
    i18n = I18n.configured(settings)
    lang = i18n.default_language
    out = plain_console()
    clock = SystemClock()

    async def current() -> bc.Report | None:
        async with opened_store(settings) as store:
            return await bc.report(store, clock.now(), broadcast_id)

    report = asyncio.run(current())
    if report is None or report.broadcast.status == "draft":
        typer.echo(i18n.t(lang, "broadcast.not_found", id=broadcast_id), err=True)
        raise typer.Exit(1)
    if report.broadcast.status in bc.FINISHED:
        status_name = i18n.t(lang, f"broadcast.status_{report.broadcast.status}")
        _print(out, i18n.t(lang, "broadcast.cancel_already", id=broadcast_id, status=status_name))
        return
    waiting, sent = bc.number(report.waiting, lang), bc.number(report.sent, lang)
    _print(
        out, i18n.plural(lang, "broadcast.confirm_cancel", report.waiting, id=broadcast_id, waiting=waiting, sent=sent)
    )
    if not (yes or _ask(i18n.t(lang, "broadcast.cli_stop"))):
        _print(out, i18n.t(lang, "broadcast.cli_nothing_changed"))
        raise typer.Exit(1)

    async def stop() -> tuple[bc.Cancelled, bc.Report | None]:
        async with opened_store(settings) as store:
            result = await bc.cancel(store, clock.now(), broadcast_id)
            return result, await bc.report(store, clock.now(), broadcast_id)

    result, after = asyncio.run(stop())
    if result.already and result.broadcast is not None:
        status_name = i18n.t(lang, f"broadcast.status_{result.broadcast.status}")
        _print(out, i18n.t(lang, "broadcast.cancel_already", id=broadcast_id, status=status_name))
        return
    stopped = bc.number(result.stopped, lang)
    _print(out, i18n.plural(lang, "broadcast.cancel_done", result.stopped, id=broadcast_id, stopped=stopped))
    if after is not None:
        _print(out, bc.render_report(i18n, lang, after, clock.now(), texts=False))
