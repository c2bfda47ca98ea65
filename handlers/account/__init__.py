"""The person's own settings: language, STOP / START, help and the welcome."""

from __future__ import annotations

from bot import people
from bot.dispatch import Context, Replies, Router
from bot.i18n import LANGUAGE_NAME
from bot.messages import Choice, Inbound, Reply
from bot.text import fold

router = Router("account")

# In every language: who does not read the current one finds where to change it.
router.menu_entry("account.language", "account.menu_language", order=90, every_language=True)


@router.command("/stop", words="account.stop", typos=False)
async def stop(inbound: Inbound, ctx: Context) -> Replies:
    """Opt out of everything but direct answers, on this channel only.

    CANCEL, END and QUIT typed in the middle of a conversation step mean "cancel this", as
    people use them; STOP, ARRET, STOPALL and UNSUBSCRIBE always opt out.
    """
    if ctx.step is not None and fold(inbound.text) in ctx.i18n.words("account.step_cancel"):
        ctx.done()
        return [Reply(ctx.t("account.step_cancelled")), ctx.menu()]
    await people.set_opted_out(ctx.store, ctx.identity.id, ctx.now())
    ctx.done()
    return [Reply(ctx.t("account.stopped"))]


@router.command(words="account.start")
async def start_again(inbound: Inbound, ctx: Context) -> Replies:
    if ctx.identity.opted_out:
        await people.set_opted_out(ctx.store, ctx.identity.id, None)
        return [Reply(ctx.t("account.started")), ctx.menu()]
    return [_welcome(ctx)]


@router.command(words="account.yes_start")
async def yes(inbound: Inbound, ctx: Context) -> Replies:
    """YES opts back in only an opted-out number: otherwise it answers a question elsewhere."""
    if not ctx.identity.opted_out:
        return None
    await people.set_opted_out(ctx.store, ctx.identity.id, None)
    return [Reply(ctx.t("account.started")), ctx.menu()]


@router.command("/start")
async def welcome(inbound: Inbound, ctx: Context) -> Replies:
    ctx.done()
    if ctx.identity.opted_out:
        await people.set_opted_out(ctx.store, ctx.identity.id, None)
    return [_welcome(ctx)]


def _welcome(ctx: Context) -> Reply:
    """The welcome carries the main menu's choices: one message, not two."""
    return Reply(ctx.t("account.welcome"), ctx.menu().choices)


@router.command("/help", "/aide", words="account.help")
async def help_(inbound: Inbound, ctx: Context) -> Replies:
    """A registered person learns what their roles let them do, as numbered choices on one page
    (staff: the last one is their own commands, /equipe); someone unknown, how to ask and the menu."""
    ctx.done()
    choices = ctx.help_choices() if ctx.person.roles else ()
    if not choices:
        return [Reply(ctx.t("account.help")), ctx.menu()]
    intro = "account.help_staff" if ctx.person.is_staff else "account.help_registered"
    return [Reply(ctx.t(intro), choices)]


def _language_menu(ctx: Context) -> Reply:
    """Each configured language under its own name and script ("العربية"), asked in the reader's
    language and those of the default's script: the names say the rest, and by SMS in UCS-2 each
    question in another script would cost a segment more."""
    i18n = ctx.i18n
    choices = tuple(Choice(f"account.lang:{code}", i18n.language_name(code, title=True)) for code in i18n.languages)
    return Reply(i18n.every_language("account.choose_language", ctx.language), choices)


@router.command("/language", "/langue", words="account.language")
@router.action("account.language")
async def language(inbound: Inbound, ctx: Context) -> Replies:
    ctx.done()
    return [_language_menu(ctx)]


@router.command(words=LANGUAGE_NAME)
async def language_by_name(inbound: Inbound, ctx: Context) -> Replies:
    """A language's name alone ("english", "espagnol"), in any configured language, chooses it."""
    if ctx.step is not None:
        return None  # a step asking for a language (registering someone) reads it itself
    code = ctx.i18n.language_named(inbound.text)
    return None if code is None else await _set_language(code, ctx)


@router.action("account.lang")
async def chosen_language(inbound: Inbound, ctx: Context) -> Replies:
    code = (inbound.choice or "").partition(":")[2]
    if code not in ctx.i18n.languages:
        return [_language_menu(ctx)]
    return await _set_language(code, ctx)


async def _set_language(code: str, ctx: Context) -> Replies:
    await people.set_language(ctx.store, ctx.person.id, code)
    ctx.language = code
    return [Reply(ctx.t("account.language_set")), ctx.menu()]


from handlers.account import data_rights as data_rights  # noqa: E402
from handlers.account import link as link  # noqa: E402
