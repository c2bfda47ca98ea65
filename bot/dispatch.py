"""Routes one :class:`Inbound` to one handler and keeps the person's conversation in the store.

Order: urgent handlers (danger always wins), a pressed button, SMS paging (SUITE, even with no page
left), the menu, commands and keywords, a number against the last menu, the pending step (none when
it was left longer than ``CONVERSATION_MINUTES``; a confirmation keeps its own expiry), a likely typo
of a whole-message keyword, free text, and finally the main menu for whatever was not understood.

Free text tries the features' named handlers (``@router.text("trocshop.pay")``) in the one order
of ``TEXT_ORDER`` in ``handlers/registry.py``, where each line says why it comes there; the first
that does not answer None wins.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite
from rapidfuzz import fuzz, process

from bot import confirm, conversations, people
from bot.clock import Clock
from bot.config import Settings
from bot.conversations import Conversation as _Conversation
from bot.i18n import I18n
from bot.messages import Channel, Choice, Inbound, Reply
from bot.outbox import Outbox, OutboxHook
from bot.people import Identity, Person, Role
from bot.sms_text import MAX_BODY, numbered, paginate, render_reply
from bot.store import Store, unwritable_reason
from bot.text import clean, fold
from bot.web.pages import ConsolePage, PageEndpoint, PersonSection, TodayPanel

if TYPE_CHECKING:
    from bot.voice import VoiceEntry

log = logging.getLogger(__name__)

Replies = list[Reply] | None
Handler = Callable[[Inbound, "Context"], Awaitable[Replies]]
DemoSeeder = Callable[[Store, datetime], Awaitable[None]]
# A feature's share of a person's data: what to show them (/mydata) and how to erase it (/forget).
Exporter = Callable[[aiosqlite.Connection, int], Awaitable[dict[str, Any]]]
Eraser = Callable[[aiosqlite.Connection, int], Awaitable[None]]
# Sees each message once answered, inside a transaction of its own: the context (``ctx.urgent`` when
# danger words answered it), what came in and the replies as sent (the hand-off keeps recent exchanges).
Observer = Callable[[aiosqlite.Connection, "Context", Inbound, Sequence[Reply]], Awaitable[None]]
# An HTTP endpoint a feature serves on the shared web app (a Starlette request handler).
Endpoint = Callable[..., Awaitable[Any]]
# A whole message this close to one whole-message keyword (rapidfuzz ratio, 0-100) is taken for it:
# "planing" is PLANNING, "inscripton" INSCRIPTION. Shorter messages must be typed exactly.
TYPO_CUTOFF = 85.0
TYPO_MIN_LENGTH = 4
# Channels whose answer is one text message, its choices numbered, the rest waiting for SUITE.
PAGED = (Channel.SMS, Channel.WHATSAPP)


@dataclass(frozen=True)
class HttpRoute:
    path: str
    endpoint: Endpoint
    methods: tuple[str, ...]


@dataclass(frozen=True)
class PersonalData:
    feature: str
    exporter: Exporter | None
    eraser: Eraser | None


@dataclass
class Context:
    """Everything a handler may use; no globals. A handler never learns which channel is talking."""

    store: Store
    clock: Clock
    settings: Settings
    i18n: I18n
    person: Person
    identity: Identity
    language: str
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    personal_data: list[PersonalData] = field(default_factory=list)
    outbox: Outbox | None = None
    urgent: bool = False  # an urgent handler (danger words) answered this message
    _menu: Callable[[Context], Reply] | None = None
    _help: Callable[[Context], tuple[Choice, ...]] | None = None
    _commands: Callable[[Person], list[CommandEntry]] | None = None

    def t(self, key: str, **params: object) -> str:
        return self.i18n.t(self.language, key, **params)

    def plural(self, key: str, n: int, /, **params: object) -> str:
        """``key_one`` or ``key_other`` as the person's language says ``n`` (see :meth:`I18n.plural`)."""
        return self.i18n.plural(self.language, key, n, **params)

    def now(self) -> datetime:
        return self.clock.now()

    def local_now(self) -> datetime:
        return self.clock.now().astimezone(self.settings.tz)

    def goto(self, step: str, **data: Any) -> None:
        """Wait for the person's next message in ``step``; ``data`` is kept with it."""
        self.step = step
        self.data = data

    def done(self) -> None:
        self.step = None
        self.data = {}

    def menu(self) -> Reply:
        """The main menu, in the person's language, built from every feature's entries."""
        assert self._menu is not None
        return self._menu(self)

    def help_choices(self) -> tuple[Choice, ...]:
        """What this person may do, as AIDE offers it: the features' help entries their roles allow."""
        return self._help(self) if self._help is not None else ()

    def commands(self) -> list[CommandEntry]:
        """The commands this person's roles let them use, feature by feature (what /equipe lists)."""
        return self._commands(self.person) if self._commands is not None else []


STAFF_ROLES = frozenset({Role.STAFF.value, Role.ADMIN.value})
REGISTERED = frozenset(role.value for role in Role)  # any registered person, whatever their role


def guard(handler: Handler, roles: Iterable[str] | None) -> Handler:
    """The one authorisation check: a handler registered with roles runs only for a person who has one.

    Anyone else gets a clear refusal, their pending step is dropped, and nothing else happens.
    """
    if roles is None:
        return handler
    required = frozenset(str(role) for role in roles)

    async def checked(inbound: Inbound, ctx: Context) -> Replies:
        if ctx.person.roles & required:
            return await handler(inbound, ctx)
        log.info("refused a %s-only action (person %s)", "/".join(sorted(required)), ctx.person.id)
        ctx.done()
        if ctx.person.status == "guest" and not required <= STAFF_ROLES:
            return [Reply(ctx.t("core.not_registered"))]
        return [Reply(ctx.t("core.not_allowed"))]

    checked.required_roles = required  # type: ignore[attr-defined]
    checked.__name__ = getattr(handler, "__name__", "handler")
    return checked


def required_roles(handler: Handler) -> frozenset[str]:
    """The roles a registered handler demands (empty: anyone)."""
    roles: frozenset[str] = getattr(handler, "required_roles", frozenset())
    return roles


@dataclass(frozen=True)
class CommandEntry:
    """A registered command as a list of commands shows it: kept from its registration, so a
    command added later is listed by itself."""

    feature: str  # the router's name
    names: tuple[str, ...]  # "/equipe", "/staff": one command, shown once
    roles: frozenset[str]  # empty: anyone
    help: str | None  # a catalog key: one line, the command as typed in that language and what it does

    @property
    def title(self) -> str:
        """The catalog key of its feature's title in a list of commands."""
        return f"{self.feature}.commands_title"

    @property
    def staff_only(self) -> bool:
        return bool(self.roles) and self.roles <= STAFF_ROLES

    def allowed(self, person: Person) -> bool:
        return not self.roles or bool(self.roles & person.roles)


@dataclass(frozen=True)
class MenuEntry:
    key: str
    label_key: str
    order: int
    visible: Callable[[Person], bool] | None = None
    every_language: bool = False  # the label in every configured language of the reader's script: "Langue / Language"

    def label(self, ctx: Context) -> str:
        return ctx.i18n.every_language(self.label_key, ctx.language) if self.every_language else ctx.t(self.label_key)


class Router:
    """One feature's handlers. Registered once in ``handlers/registry.py``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.urgent_handlers: list[Handler] = []
        self.commands: dict[str, Handler] = {}
        self.actions: dict[str, Handler] = {}
        self.steps: dict[str, Handler] = {}
        self.text_handlers: dict[str, Handler] = {}  # by name; their order is the registry's
        self.menu_entries: list[MenuEntry] = []
        self.help_entries: list[MenuEntry] = []
        self.demo_seeders: list[DemoSeeder] = []
        self.startup: list[Callable[[Store, datetime], Awaitable[object]]] = []
        self.personal: list[PersonalData] = []
        self.observers: list[Observer] = []
        self.outbox_hooks: list[Callable[[Store, Clock], OutboxHook]] = []
        self.configured_hooks: list[Callable[[Store, Clock, Settings], OutboxHook]] = []
        self.clis: list[tuple[str, Any, str]] = []
        self.routes: list[HttpRoute] = []
        self.operations: list[confirm.Operation] = []
        self.keyword_commands: list[tuple[str, Handler]] = []  # (keyword key, handler), read with the catalogs
        self.exact_keywords: set[str] = set()  # keys of keyword_commands a typo never reaches
        self.command_entries: list[CommandEntry] = []  # every command registration, for the lists of commands
        self.console_pages: list[ConsolePage] = []  # the staff console's pages of this feature
        self.console_templates: Path | None = None  # their templates, named "<feature>/<file>.html"
        self.today_panels: list[tuple[int, TodayPanel]] = []  # (order, panel) on the console's Today page
        self.person_sections: list[tuple[int, PersonSection]] = []  # (order, section) of a person's console page
        self.message_kinds: list[tuple[str, re.Pattern[str]]] = []  # (kind, causes): WhatsApp's templates
        self.voice_entries: list[VoiceEntry] = []  # this feature's choices of the telephone menu (bot/voice.py)

    def outbox_hook(self, factory: Callable[[Store, Clock], OutboxHook]) -> None:
        """Work this feature does around sending (see :class:`bot.outbox.OutboxHook`)."""
        self.outbox_hooks.append(factory)

    def configured_outbox_hook(self, factory: Callable[[Store, Clock, Settings], OutboxHook]) -> None:
        """An outbox hook that needs the settings (local hours of reminders, the time zone)."""
        self.configured_hooks.append(factory)

    def make_outbox_hooks(self, store: Store, clock: Clock, settings: Settings) -> list[OutboxHook]:
        """This feature's hooks for one running outbox."""
        made = [make(store, clock) for make in self.outbox_hooks]
        return made + [make(store, clock, settings) for make in self.configured_hooks]

    def route(self, path: str, endpoint: Endpoint, methods: Iterable[str] = ("GET",)) -> None:
        """An HTTP route on the shared web app (``GET /permanence.ics``); the endpoint reads the
        core from ``request.app.state.core``."""
        self.routes.append(HttpRoute(path, endpoint, tuple(methods)))

    def console(
        self,
        path: str,
        *,
        label: str | None = None,
        order: int = 100,
        methods: Iterable[str] = ("GET",),
        roles: Iterable[str] | None = None,
        max_body: int | None = None,
    ) -> Callable[[PageEndpoint], PageEndpoint]:
        """A page of the staff console at ``/console/<path>``, for staff and admins unless ``roles`` says.

        The console checks the session, the roles and the CSRF token of every form before the
        endpoint runs (:mod:`bot.web.app`); ``label`` (a catalog key) puts the page in the menu;
        ``max_body`` raises the request size limit for a page that takes a file.
        """

        def register(endpoint: PageEndpoint) -> PageEndpoint:
            allowed = frozenset(str(role) for role in roles) if roles is not None else STAFF_ROLES
            page = ConsolePage(path.strip("/"), endpoint, tuple(methods), allowed, label, order, max_body)
            self.console_pages.append(page)
            return endpoint

        return register

    def today(self, order: int) -> Callable[[TodayPanel], TodayPanel]:
        """A panel of the console's Today page (what needs staff now), shown in ``order``."""

        def register(panel: TodayPanel) -> TodayPanel:
            self.today_panels.append((order, panel))
            return panel

        return register

    def person_section(self, order: int) -> Callable[[PersonSection], PersonSection]:
        """This feature's part of a person's page in the console (a balance, shifts, a sign-up)."""

        def register(section: PersonSection) -> PersonSection:
            self.person_sections.append((order, section))
            return section

        return register

    def cli(self, name: str, app: Any, help: str) -> None:
        """A ``voisins NAME ...`` command group (a typer app) for this feature's staff."""
        self.clis.append((name, app, help))

    def personal_data(self, exporter: Exporter | None = None, eraser: Eraser | None = None) -> None:
        """Declares the tables this feature keeps about a person, for the data-rights commands."""
        self.personal.append(PersonalData(self.name, exporter, eraser))

    def observe(self, observer: Observer) -> Observer:
        """Called with every exchange once answered (see :data:`Observer`); its failure never costs the answer."""
        self.observers.append(observer)
        return observer

    def on_start(self, task: Callable[[Store, datetime], Awaitable[object]]) -> None:
        """Data this feature keeps in the store from a file of the release (the places), brought up to
        date each time a core opens the database, before any message is read."""
        self.startup.append(task)

    def demo(self, seeder: DemoSeeder) -> DemoSeeder:
        """Adds this feature's demo data to the embedded default, so a newcomer can try it."""
        self.demo_seeders.append(seeder)
        return seeder

    def urgent(self, handler: Handler) -> Handler:
        """Runs before anything else, whatever step the person is in (danger words)."""
        self.urgent_handlers.append(handler)
        return handler

    def command(
        self,
        *names: str,
        words: str | None = None,
        roles: Iterable[str] | None = None,
        typos: bool = True,
        help: str | None = None,
    ) -> Callable[[Handler], Handler]:
        """Slash commands ("/help") and whole-message keywords (folded: "AIDE" matches "aide").

        ``words`` names a keyword key (``trocshop.balance``): its words in every language's keyword
        file (``data/locales/<lang>/keywords/``) are read when the dispatcher is built, so a
        translator adds them without touching code. A likely typo of them reaches the handler too
        ("sold"), unless ``typos`` is False (STOP: opting out is never a guess). With ``roles``, only
        a person holding one of them gets through (see :func:`guard`). ``help`` is a catalog key: the
        command's line in /equipe ("/roles GV-K7P2 : donner ou retirer des rôles"), the name written
        in the reader's language; every staff-only command has one (tests/test_staff_help.py).
        """

        def register(handler: Handler) -> Handler:
            checked = guard(handler, roles)
            self.command_entries.append(CommandEntry(self.name, names, required_roles(checked), help))
            for name in names:
                self.commands[name if name.startswith("/") else fold(name)] = checked
            if words is not None:
                self.keyword_commands.append((words, checked))
                if not typos:
                    self.exact_keywords.add(words)
            return handler

        return register

    def action(self, key: str, roles: Iterable[str] | None = None) -> Callable[[Handler], Handler]:
        """A choice key, with an optional argument after ":" (``orientation.centre:3``)."""

        def register(handler: Handler) -> Handler:
            self.actions[key] = guard(handler, roles)
            return handler

        return register

    def step(self, name: str, roles: Iterable[str] | None = None) -> Callable[[Handler], Handler]:
        """The next message of a person whose pending step is ``name``; None lets others try."""

        def register(handler: Handler) -> Handler:
            self.steps[name] = guard(handler, roles)
            return handler

        return register

    def confirmation(self, op: confirm.Operation) -> confirm.Operation:
        """An operation asked with ``op.ask``: the engine answers its buttons, its typed answers
        and a repeated yes (see :mod:`bot.confirm`), each guarded by ``op.roles`` at the yes."""
        self.actions[op.yes_key] = guard(partial(confirm.on_pressed, op, True), op.roles)
        self.actions[op.no_key] = guard(partial(confirm.on_pressed, op, False), op.roles)
        self.steps[op.name] = guard(partial(confirm.on_typed, op), op.roles)
        self.operations.append(op)
        return op

    def text(self, name: str) -> Callable[[Handler], Handler]:
        """Free text, under a name (``trocshop.pay``) that the registry's ``TEXT_ORDER`` places among
        the others: the one table that says who reads a message first. None lets the next try."""
        if not name.startswith(f"{self.name}."):
            raise ValueError(f"{self.name}: the text handler {name!r} must be named {self.name}.<something>")

        def register(handler: Handler) -> Handler:
            if name in self.text_handlers:
                raise ValueError(f"{self.name}: the text handler {name!r} is registered twice")
            self.text_handlers[name] = handler
            return handler

        return register

    def menu_entry(
        self,
        key: str,
        label_key: str,
        order: int,
        visible: Callable[[Person], bool] | None = None,
        *,
        every_language: bool = False,
    ) -> None:
        self.menu_entries.append(MenuEntry(key, label_key, order, visible, every_language))

    def message_kind(self, kind: str, causes: str) -> None:
        """Name a kind of message this feature sends unasked (``causes``: a regular expression of its
        outbox causes). Outside WhatsApp's 24 hours only a template may go, one per kind (WHATSAPP_TEMPLATES)."""
        self.message_kinds.append((kind, re.compile(causes)))

    def voice(self, entry: VoiceEntry) -> VoiceEntry:
        """A choice of the telephone menu (``POST /twilio/voice``): what it says, and to whom it is offered."""
        self.voice_entries.append(entry)
        return entry

    def help_entry(self, key: str, label_key: str, order: int, visible: Callable[[Person], bool] | None = None) -> None:
        """A numbered choice of AIDE for a registered person, saying what they can do ("SOLDE : mon solde").

        ``key`` is one of this router's actions; the entry is shown only to whom that action's guard
        lets through (and ``visible`` accepts), so AIDE never offers what would be refused.
        """
        self.help_entries.append(MenuEntry(key, label_key, order, visible))


def likely_keyword(
    typed: str, keywords: Mapping[str, str], taken: Mapping[str, frozenset[str]], cutoff: float = TYPO_CUTOFF
) -> str | None:
    """The whole-message keyword ``typed`` (folded) is a likely typo of, or None.

    ``keywords`` maps each whole-message keyword to its feature; ``taken`` maps every word or phrase of
    every keyword file to the features that use it. A message that is itself another feature's word
    ("site", "suite", "merci") is never a typo; nor is a short one; and two keywords of different
    features equally close make no guess.
    """
    if len(typed) < TYPO_MIN_LENGTH or typed in keywords:
        return None
    found = process.extract(typed, list(keywords), scorer=fuzz.ratio, score_cutoff=cutoff, limit=None)
    if not found:
        return None
    best, score, _ = max(found, key=lambda match: match[1])
    feature = keywords[best]
    if any(other_score == score and keywords[other] != feature for other, other_score, _ in found):
        return None
    if taken.get(typed, frozenset()) - {feature}:
        return None
    return best


def _text_handlers(routers: list[Router], order: Sequence[str]) -> dict[str, Handler]:
    """The routers' free-text handlers in ``order`` (the registry's ``TEXT_ORDER``).

    Every handler registered must be listed once, and every listed name of a router present must be
    registered: a handler left out, listed twice or renamed fails at start, not in a conversation.
    Names of routers that are not there are skipped (a bot built with some features only).
    """
    registered = {name: handler for router in routers for name, handler in router.text_handlers.items()}
    twice = sorted({name for name in order if order.count(name) > 1})
    if twice:
        raise ValueError(f"the text order (handlers/registry.py) lists {twice} more than once")
    missing = [name for name in registered if name not in order]
    if missing:
        raise ValueError(f"the text handlers {missing} are not in the text order (handlers/registry.py)")
    present = tuple(f"{router.name}." for router in routers)
    unknown = [name for name in order if name not in registered and name.startswith(present)]
    if unknown:
        raise ValueError(f"the text order (handlers/registry.py) lists {unknown}, which no router registers")
    return {name: registered[name] for name in order if name in registered}


class Dispatcher:
    """The one place every inbound message goes through."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: Settings,
        i18n: I18n,
        routers: list[Router],
        outbox: Outbox | None = None,
        *,
        text_order: Sequence[str],
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self.settings = settings
        self.i18n = i18n
        self.routers = routers
        self.urgent = [h for r in routers for h in r.urgent_handlers]
        self.commands: dict[str, Handler] = {}
        self.actions: dict[str, Handler] = {}
        self.steps: dict[str, Handler] = {}
        for router in routers:
            for table, own in (
                (self.commands, router.commands),
                (self.actions, router.actions),
                (self.steps, router.steps),
            ):
                clash = table.keys() & own.keys()
                if clash:
                    raise ValueError(f"{router.name} registers {sorted(clash)} already registered")
                table.update(own)
        self.typo_keywords: dict[str, str] = {}  # whole-message keywords a typo may reach, and their feature
        for router in routers:
            for key, handler in router.keyword_commands:
                words = i18n.words(key)
                if not words:
                    raise ValueError(f"{router.name}: no language has words for {key!r} (data/locales/*/keywords/)")
                taken = sorted(word for word in words if self.commands.get(word, handler) is not handler)
                if taken:
                    raise ValueError(f"{router.name}: the words {taken} of {key!r} are already someone else's")
                self.commands.update(dict.fromkeys(words, handler))
                if key not in router.exact_keywords:
                    self.typo_keywords.update(dict.fromkeys(words, key.split(".", 1)[0]))
        used_by: dict[str, set[str]] = {}
        for keywords in i18n.keywords.values():
            for key, phrases in keywords.items():
                for phrase in phrases:
                    for said in (phrase, *phrase.split()):  # "aidez" is a word of orientation's "aidez moi"
                        used_by.setdefault(said, set()).add(key.split(".", 1)[0])
        self.taken_words = {said: frozenset(features) for said, features in used_by.items()}  # for likely_keyword
        named = _text_handlers(routers, text_order)
        self.text_order = list(named)  # the names, in the order they try
        self.text_handlers = list(named.values())
        self.menu_entries = sorted((e for r in routers for e in r.menu_entries), key=lambda e: e.order)
        self.help_entries = sorted((e for r in routers for e in r.help_entries), key=lambda e: e.order)
        unanswered = [e.key for e in self.help_entries if e.key.split(":", 1)[0] not in self.actions]
        if unanswered:
            raise ValueError(f"the help entries {unanswered} name no registered action")
        self.personal_data = [p for r in routers for p in r.personal]
        self.observers = [o for r in routers for o in r.observers]
        self.questions = {op.name: op for r in routers for op in r.operations}
        self.command_entries = [entry for r in routers for entry in r.command_entries]

    def commands_for(self, person: Person) -> list[CommandEntry]:
        """The commands ``person``'s roles allow, feature by feature in the registry's order."""
        return [entry for entry in self.command_entries if entry.allowed(person)]

    def main_menu(self, ctx: Context) -> Reply:
        choices = tuple(
            Choice(e.key, e.label(ctx)) for e in self.menu_entries if e.visible is None or e.visible(ctx.person)
        )
        return Reply(ctx.t("core.menu"), choices)

    def help_choices(self, ctx: Context) -> tuple[Choice, ...]:
        """The help entries this person may use: their action's roles allow it, and so does ``visible``."""
        person = ctx.person

        def allowed(entry: MenuEntry) -> bool:
            roles = required_roles(self.actions[entry.key.split(":", 1)[0]])
            return (not roles or bool(roles & person.roles)) and (entry.visible is None or entry.visible(person))

        return tuple(Choice(e.key, e.label(ctx)) for e in self.help_entries if allowed(e))

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """Answer one message. Never raises for what a person typed."""
        now = self.clock.now()
        inbound = Inbound(
            channel=inbound.channel,
            address=inbound.address,
            text=clean(inbound.text),
            location=inbound.location,
            language_hint=inbound.language_hint,
            choice=inbound.choice,
            display_name=inbound.display_name,
        )
        person, identity = await people.identify(
            self.store, inbound.channel, inbound.address, now, inbound.language_hint
        )
        conv = await self._load(person.id, now)
        language = person.language or self.i18n.normalise(identity.language_hint) or self.i18n.default_language
        ctx = Context(
            store=self.store,
            clock=self.clock,
            settings=self.settings,
            i18n=self.i18n,
            person=person,
            identity=identity,
            language=language,
            step=conv.step,
            data=dict(conv.data),
            personal_data=self.personal_data,
            outbox=self.outbox,
            _menu=self.main_menu,
            _help=self.help_choices,
            _commands=self.commands_for,
        )
        if person.language is None and not inbound.text.startswith("/"):  # a /command is code, not a language
            ctx.language = self.i18n.written_in(inbound.text, ctx.language)  # no choice yet: their message's
        try:
            replies = await self._route(inbound, ctx, conv)
        except Exception:
            log.exception("handler failed (channel=%s, step=%s)", inbound.channel.value, conv.step)
            ctx.done()
            replies = [Reply(ctx.t("core.error")), self.main_menu(ctx)]
        if replies is None:  # SUITE: the next stored page, or a short word that there is none; the last menu stays
            page = conv.pages.pop(0) if conv.pages else ctx.t("core.no_more")
            replies = [Reply(page)]
            await self._observe(inbound, ctx, replies)
            await self._save(person.id, ctx, conv.menu, conv.pages, now)
            return replies
        menu = next((list(c.key for c in r.choices) for r in reversed(replies) if r.choices), [])
        pages: list[str] = []
        if inbound.channel in PAGED and replies:  # no reply: a handler chose silence, an empty TwiML
            replies, pages = self._paged(replies, ctx, inbound.channel)
        await self._observe(inbound, ctx, replies)
        await self._save(person.id, ctx, menu, pages, now)
        return replies

    def _paged(self, replies: list[Reply], ctx: Context, channel: Channel) -> tuple[list[Reply], list[str]]:
        """One message per answer: by SMS of at most two segments (GSM-7), on WhatsApp of at most
        the 1600 characters Twilio takes, every character as written; the rest waits for SUITE."""
        sms = channel is Channel.SMS
        render = render_reply if sms else numbered
        body = "\n\n".join(render(replace(reply, pin="")) for reply in replies)
        pinned = "\n".join(reply.pin for reply in replies if reply.pin)
        limit = None if sms else MAX_BODY
        pages = paginate(body, ctx.t("core.more"), limit, pinned=pinned, gsm=sms)
        return [Reply(pages[0])], pages[1:]

    async def _route(self, inbound: Inbound, ctx: Context, conv: _Conversation) -> list[Reply] | None:
        for urgent in self.urgent:
            replies = await urgent(inbound, ctx)
            if replies:
                ctx.urgent = True
                return replies + await self._step_after_urgent(inbound, ctx)

        if inbound.choice is not None:
            replies = await self._action(inbound.choice, inbound, ctx)
            if replies is not None:
                return replies
            return [ctx.menu()]

        text = inbound.text
        folded = fold(text)
        if folded in self.i18n.words("core.more"):  # never a typo of anything else ("suite" is not "site")
            return None
        if folded in self.i18n.words("core.menu") or folded == "0" or text.strip().lower() == "/menu":
            ctx.done()
            return [ctx.menu()]

        command = text.split()[0].split("@")[0].lower() if text.startswith("/") else folded
        handler = self.commands.get(command)
        if handler is not None:
            replies = await handler(inbound, ctx)
            if replies is not None:
                return replies

        if folded.isdigit() and conv.menu:
            index = int(folded) - 1
            if 0 <= index < len(conv.menu):
                replies = await self._action(conv.menu[index], inbound, ctx)
                if replies is not None:
                    return replies

        if ctx.step is not None:
            step_handler = self.steps.get(ctx.step)
            if step_handler is None:
                ctx.done()
            else:
                replies = await step_handler(inbound, ctx)
                if replies is not None:
                    return replies

        typo = likely_keyword(folded, self.typo_keywords, self.taken_words) if not text.startswith("/") else None
        if typo is not None:  # after the pending step, which may be waiting for just this text
            replies = await self.commands[typo](inbound, ctx)
            if replies is not None:
                return replies

        for text_handler in self.text_handlers:
            replies = await text_handler(inbound, ctx)
            if replies is not None:
                return replies

        question = self.questions.get(ctx.step or "")
        if question is not None:  # not an answer, and nobody else understood it
            return [Reply(ctx.t(question.texts.waiting))]
        if confirm.said_yes(ctx, text):  # a yes, with or without a code, to no question
            return await confirm.no_question(ctx, self.questions)
        return [Reply(ctx.t("core.not_understood")), ctx.menu()] if text or inbound.location else [ctx.menu()]

    async def _step_after_urgent(self, inbound: Inbound, ctx: Context) -> list[Reply]:
        """The emergency numbers come first; then what the person was doing goes on (a staff draft
        that mentions "malaise" is still a draft)."""
        step_handler = self.steps.get(ctx.step) if ctx.step is not None and inbound.choice is None else None
        if step_handler is None:
            return []
        return await step_handler(inbound, ctx) or []

    async def _observe(self, inbound: Inbound, ctx: Context, replies: Sequence[Reply]) -> None:
        """Each observer in its own transaction: one failing is logged (no text), the person still gets the answer."""
        for observer in self.observers:
            try:
                async with self.store.transaction() as db:
                    await observer(db, ctx, inbound, replies)
            except Exception as exc:
                if unwritable_reason(exc) is None:  # a full disk is said once by the store
                    log.exception("exchange observer %s failed", getattr(observer, "__name__", "?"))

    async def _action(self, choice: str, inbound: Inbound, ctx: Context) -> Replies:
        name = choice.split(":", 1)[0]
        handler = self.actions.get(name)
        if handler is None:
            return None
        chosen = Inbound(
            channel=inbound.channel,
            address=inbound.address,
            text=inbound.text,
            location=inbound.location,
            language_hint=inbound.language_hint,
            choice=choice,
            display_name=inbound.display_name,
        )
        return await handler(chosen, ctx)

    async def _load(self, person_id: int, now: datetime) -> _Conversation:
        """The pending step, unless left longer than ``CONVERSATION_MINUTES`` (a confirmation keeps its own)."""
        stale_before = now - timedelta(minutes=self.settings.conversation_minutes)
        return await conversations.load(self.store, person_id, stale_before=stale_before, own_expiry=self.questions)

    async def _save(self, person_id: int, ctx: Context, menu: list[str], pages: list[str], now: datetime) -> None:
        """Keep the conversation, unless the person was just merged into another or forgotten."""
        await conversations.save(self.store, person_id, ctx.step, ctx.data, menu, pages, now)
