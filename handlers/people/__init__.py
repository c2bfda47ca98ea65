"""Staff register people in the chat: add a person step by step, change roles, attach a phone.

Every command is for staff only (the dispatcher's guard refuses anyone else and changes nothing).
Nothing is written before the staff member answers OUI to a summary (through ``bot.confirm``:
by SMS the answer needs the code printed in the summary, since roles and numbers are who may do
what); NON, ANNULER or /cancel at any step stops with nothing written. Logs carry person ids
only, never a name or a number.

Commands: /equipe or /staff (every staff command of every feature, from the router registry),
/inscrire or /register, /roles CODE, /tel or /phone CODE NUMBER.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from itertools import groupby
from typing import Any

import aiosqlite

from bot import confirm, people
from bot.dispatch import STAFF_ROLES, Context, Replies, Router
from bot.messages import Channel, Choice, Inbound, Reply
from bot.people import PeopleError, Role
from bot.people.cli import people_app
from bot.people.roster import MAX_NAME, display_phone, ordered_roles, parse_phone, replace_identity, role_from_word
from bot.text import fold

log = logging.getLogger(__name__)

router = Router("people")
router.cli("people", people_app, "Register people, import and export the roster.")
router.menu_entry("people.staff", "people.menu_staff", order=80, visible=lambda person: person.is_staff)
# AIDE of a staff member says where their commands are (the action's guard keeps it from everyone else).
router.help_entry("people.commands", "people.help_staff", order=90)

GRANTABLE = (Role.RESIDENT, Role.WORKER, Role.VOLUNTEER, Role.STAFF)

NAME, PHONE, ROLES, LANGUAGE, CONFIRM, CODE, NEW_PHONE = (
    "people.name",
    "people.phone",
    "people.roles",
    "people.language",
    "people.confirm",
    "people.code",
    "people.new_phone",
)


# Shared pieces ------------------------------------------------------------------------------


def _offered(ctx: Context) -> list[str]:
    """The roles this staff member may give or take: only an admin makes an admin."""
    offered = [role.value for role in GRANTABLE]
    if Role.ADMIN.value in ctx.person.roles:
        offered.append(Role.ADMIN.value)
    return offered


def _roles_text(ctx: Context, roles: Iterable[str]) -> str:
    names = [ctx.t(f"people.role_{role}") for role in ordered_roles(roles)]
    return ", ".join(names) if names else ctx.t("people.none")


def _language_text(ctx: Context, language: str | None) -> str:
    if language is None:
        return ctx.t("people.language_none")
    return ctx.i18n.language_name(language, ctx.language, title=True)


def _cancel(ctx: Context) -> Replies:
    ctx.done()
    return [Reply(ctx.t("people.cancelled"))]


def _expired(ctx: Context) -> Replies:
    """A button of a form already finished or cancelled (pressed twice, or late): nothing happens.

    Whatever the person is doing now is left as it is.
    """
    return [Reply(ctx.t("people.expired"))]


def _is_cancel(ctx: Context, text: str) -> bool:
    """people.cancel of the keyword files; "cancel" alone is an opt-out word (account's STOP)."""
    return fold(text) in ctx.i18n.words("people.cancel")


async def _confirm(ctx: Context, text: str, **data: Any) -> Reply:
    """The summary, waiting with the flow's data: nothing is written before its yes."""
    return await SAVE.ask(ctx, text, **data)


def _split_code(text: str) -> tuple[str | None, str]:
    """``GV-K7P2 06 12...``, ``gv k7p2 06 12...`` or ``k7p2 06...`` -> (``GV-K7P2``, ``06 12...``)."""
    words = text.split()
    for taken in (2, 1):
        if len(words) >= taken:
            code = people.normalise_member_code(" ".join(words[:taken]))
            if code is not None and (taken == 1 or fold(words[0]) == "gv"):
                return code, " ".join(words[taken:])
    return None, text


def _arguments(inbound: Inbound) -> str:
    """What follows the command word: ``/tel GV-K7P2 06 12`` -> ``GV-K7P2 06 12``."""
    parts = inbound.text.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


def _label(person: people.Person) -> str:
    return f"{person.name} ({person.member_code})"


# The list of staff commands -----------------------------------------------------------------


def staff_commands_text(ctx: Context, feature: str | None = None) -> str:
    """Every described command this person may use (of ``feature`` only, if given), feature by feature,
    from the routers' registrations: a command registered with ``help=`` later is listed by itself."""
    described = [e for e in ctx.commands() if e.help is not None and feature in (None, e.feature)]
    lines = [ctx.t("people.staff_help")]
    for _, entries in groupby(described, key=lambda entry: entry.feature):
        group = list(entries)
        if feature is None:  # each feature's catalog titles its group
            lines.append(ctx.t(group[0].title))
        lines.extend(f"- {ctx.t(entry.help)}" for entry in group if entry.help is not None)
    lines.append(ctx.t("people.staff_help_end"))
    return "\n".join(lines)


@router.command("/equipe", "/staff", roles=STAFF_ROLES, help="people.about_staff")
@router.action("people.commands", roles=STAFF_ROLES)
async def staff_help(inbound: Inbound, ctx: Context) -> Replies:
    """Every staff command in one place (/equipe, AIDE), with the registration one button away."""
    ctx.done()
    return [Reply(staff_commands_text(ctx), (Choice("people.add", ctx.t("people.choice_add")),))]


@router.action("people.staff", roles=STAFF_ROLES)
async def people_help(inbound: Inbound, ctx: Context) -> Replies:
    """The menu's "inscrire, rôles, téléphone": this feature's commands, short enough for one SMS,
    and /equipe for the rest."""
    ctx.done()
    return [Reply(staff_commands_text(ctx, router.name), (Choice("people.add", ctx.t("people.choice_add")),))]


# Registration, step by step -----------------------------------------------------------------


@router.command("/inscrire", "/register", roles=STAFF_ROLES, help="people.about_register")
@router.action("people.add", roles=STAFF_ROLES)
async def start_registration(inbound: Inbound, ctx: Context) -> Replies:
    ctx.goto(NAME, flow="add")
    return [Reply(ctx.t("people.ask_name"))]


@router.step(NAME, roles=STAFF_ROLES)
async def got_name(inbound: Inbound, ctx: Context) -> Replies:
    text = inbound.text.strip()
    if _is_cancel(ctx, text):
        return _cancel(ctx)
    if not text or len(text) > MAX_NAME or text.startswith("/") or not any(ch.isalpha() for ch in text):
        return [Reply(ctx.t("people.bad_name", max=MAX_NAME))]
    ctx.goto(PHONE, flow="add", name=text)
    return [_ask_phone(ctx, text)]


def _ask_phone(ctx: Context, name: str) -> Reply:
    return Reply(ctx.t("people.ask_phone", name=name), (Choice("people.no_phone", ctx.t("people.choice_no_phone")),))


@router.step(PHONE, roles=STAFF_ROLES)
async def got_phone(inbound: Inbound, ctx: Context) -> Replies:
    text = inbound.text.strip()
    if _is_cancel(ctx, text):
        return _cancel(ctx)
    if fold(text) in ctx.i18n.words("people.no_phone"):
        return _to_roles(ctx, phone=None)
    phone = parse_phone(text)
    if phone is None:
        return [Reply(ctx.t("people.bad_phone", value=text[:30])), _ask_phone(ctx, ctx.data["name"])]
    async with ctx.store.transaction() as db:
        owner = await people.find_person_id(db, phone=phone)
        code = await _code_of(db, owner)
    if owner is not None:
        return [Reply(ctx.t("people.phone_taken", code=code)), _ask_phone(ctx, ctx.data["name"])]
    return _to_roles(ctx, phone=phone)


async def _code_of(db: aiosqlite.Connection, person_id: int | None) -> str:
    if person_id is None:
        return ""
    person = await people.get_person(db, person_id)
    return person.member_code or "?"


@router.action("people.no_phone", roles=STAFF_ROLES)
async def no_phone(inbound: Inbound, ctx: Context) -> Replies:
    if ctx.step != PHONE:
        return _expired(ctx)
    return _to_roles(ctx, phone=None)


def _to_roles(ctx: Context, phone: str | None) -> Replies:
    ctx.goto(ROLES, **{**ctx.data, "phone": phone, "roles": [], "label": ctx.data["name"]})
    return [_role_picker(ctx)]


# The role picker, shared by registration and /roles ------------------------------------------


def _role_picker(ctx: Context, hint: str | None = None) -> Reply:
    """One button per role, saying what pressing it does; typed numbers (``1 3``) work the same."""
    chosen = set(ctx.data["roles"])
    choices = [
        Choice(
            f"people.role:{role}",
            ctx.t("people.role_remove" if role in chosen else "people.role_add", role=ctx.t(f"people.role_{role}")),
        )
        for role in _offered(ctx)
    ]
    choices.append(Choice("people.roles_ok", ctx.t("people.choice_ok")))
    text = ctx.t("people.ask_roles", name=ctx.data["label"], roles=_roles_text(ctx, chosen))
    return Reply(f"{hint}\n{text}" if hint else text, tuple(choices))


def _toggle(ctx: Context, role: str) -> None:
    roles = set(ctx.data["roles"])
    roles.symmetric_difference_update({role})
    ctx.data["roles"] = ordered_roles(roles)
    ctx.goto(ROLES, **ctx.data)


@router.action("people.role", roles=STAFF_ROLES)
async def pressed_role(inbound: Inbound, ctx: Context) -> Replies:
    role = (inbound.choice or "").partition(":")[2]
    if ctx.step != ROLES:
        return _expired(ctx)
    if role in _offered(ctx):
        _toggle(ctx, role)
    return [_role_picker(ctx)]


@router.action("people.roles_ok", roles=STAFF_ROLES)
async def pressed_roles_ok(inbound: Inbound, ctx: Context) -> Replies:
    if ctx.step != ROLES:
        return _expired(ctx)
    return await _roles_chosen(ctx)


@router.step(ROLES, roles=STAFF_ROLES)
async def typed_roles(inbound: Inbound, ctx: Context) -> Replies:
    """``1 3``, ``benevole``, ``OK``, or ``1 3 OK`` in one message."""
    if _is_cancel(ctx, inbound.text):
        return _cancel(ctx)
    offered = _offered(ctx)
    toggles: list[str] = []
    finish = False
    for word in fold(inbound.text).split():
        role = role_from_word(word)
        if word.isdigit() and 1 <= int(word) <= len(offered):
            toggles.append(offered[int(word) - 1])
        elif (word.isdigit() and int(word) == len(offered) + 1) or word in ctx.i18n.words("people.done"):
            finish = True
        elif role is not None and role.value in offered:
            toggles.append(role.value)
        else:
            return [_role_picker(ctx, ctx.t("people.roles_help"))]
    for toggled in toggles:
        _toggle(ctx, toggled)
    if finish:
        return await _roles_chosen(ctx)
    return [_role_picker(ctx)]


async def _roles_chosen(ctx: Context) -> Replies:
    if not ctx.data["roles"]:
        return [_role_picker(ctx, ctx.t("people.need_a_role"))]
    if ctx.data["flow"] == "add":
        ctx.goto(LANGUAGE, **ctx.data)
        return [_ask_language(ctx)]
    before, after, label = set(ctx.data["before"]), set(ctx.data["roles"]), ctx.data["label"]
    if before == after:
        ctx.done()
        return [Reply(ctx.t("people.roles_unchanged", name=label))]
    if ctx.data["person_id"] == ctx.person.id and (before - after) & STAFF_ROLES:
        ctx.done()
        return [Reply(ctx.t("people.not_own_staff"))]
    summary = ctx.t(
        "people.confirm_roles",
        name=label,
        before=_roles_text(ctx, before),
        after=_roles_text(ctx, after),
    )
    return [await _confirm(ctx, summary, **ctx.data)]


# Registration, continued --------------------------------------------------------------------


def _ask_language(ctx: Context) -> Reply:
    choices = tuple(
        Choice(f"people.lang:{code or ''}", _language_text(ctx, code)) for code in [*ctx.i18n.languages, None]
    )
    return Reply(ctx.t("people.ask_language", name=ctx.data["name"]), choices)


@router.action("people.lang", roles=STAFF_ROLES)
async def pressed_language(inbound: Inbound, ctx: Context) -> Replies:
    if ctx.step != LANGUAGE:
        return _expired(ctx)
    code = (inbound.choice or "").partition(":")[2]
    return await _to_summary(ctx, code if code in ctx.i18n.languages else None)


@router.step(LANGUAGE, roles=STAFF_ROLES)
async def typed_language(inbound: Inbound, ctx: Context) -> Replies:
    if _is_cancel(ctx, inbound.text):
        return _cancel(ctx)
    word = fold(inbound.text)
    if word in ctx.i18n.words("people.no_language"):  # they will get the default language
        return await _to_summary(ctx, None)
    code = word if word in ctx.i18n.languages else ctx.i18n.language_named(word)
    if code is not None:
        return await _to_summary(ctx, code)
    return [_ask_language(ctx)]


async def _to_summary(ctx: Context, language: str | None) -> Replies:
    phone = ctx.data["phone"]
    summary = ctx.t(
        "people.confirm_add",
        name=ctx.data["name"],
        phone=display_phone(phone) if phone else ctx.t("people.none"),
        roles=_roles_text(ctx, ctx.data["roles"]),
        language_name=_language_text(ctx, language),
    )
    return [await _confirm(ctx, summary, **{**ctx.data, "language": language})]


# The confirmation, shared by every flow -----------------------------------------------------


async def _commit(db: aiosqlite.Connection, ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """The one place a flow writes, in one transaction: all of it or nothing."""
    flow = data["flow"]
    # Who may give which role is read again now: an admin who lost the role since the question
    # was asked no longer makes admins.
    changed = set(data["roles"]) ^ set(data.get("before", [])) if flow in ("add", "roles") else set()
    if changed - set(_offered(ctx)):
        raise confirm.Refused("people.not_allowed_now")
    try:
        if flow == "add":
            person_id = await people.register(db, ctx.now(), data["name"], data["roles"], data["language"])
            if data["phone"]:
                await people.attach_identity(db, ctx.now(), person_id, Channel.SMS, data["phone"])
        else:
            person_id = data["person_id"]
            current = await people.get_person(db, person_id) if await _active(db, person_id) else None
            if current is None:
                raise confirm.Refused("people.gone")
            if flow == "roles":
                if current.roles != set(data["before"]):  # changed by someone else since
                    raise confirm.Refused("people.changed_meanwhile", name=data["label"])
                await people.set_roles(db, person_id, data["roles"])
            else:
                await replace_identity(db, ctx.now(), person_id, Channel.SMS, data["phone"])
        person = await people.get_person(db, person_id)
    except PeopleError as exc:
        raise confirm.Refused(exc.key, **exc.params) from exc
    log.info("staff %s: %s for person %s", ctx.person.id, flow, person_id)
    if flow == "add":
        return [Reply(ctx.t("people.added", name=person.name, code=person.member_code))]
    if flow == "roles":
        return [Reply(ctx.t("people.roles_saved", name=_label(person), roles=_roles_text(ctx, person.roles)))]
    return [Reply(ctx.t("people.phone_saved", name=_label(person), phone=display_phone(data["phone"])))]


SAVE = router.confirmation(
    confirm.Operation(
        CONFIRM,
        _commit,
        roles=STAFF_ROLES,
        yes_label="people.choice_yes",
        no_label="people.choice_no",
        texts=confirm.Texts(
            cancelled="people.cancelled", nothing_pending="people.expired", waiting="people.answer_yes_no"
        ),
    )
)


async def _active(db: aiosqlite.Connection, person_id: int) -> bool:
    async with db.execute("SELECT 1 FROM persons WHERE id = ? AND status = 'active'", (person_id,)) as cursor:
        return await cursor.fetchone() is not None


# /roles CODE and /tel CODE NUMBER -----------------------------------------------------------


@router.command("/roles", roles=STAFF_ROLES, help="people.about_roles")
async def roles_command(inbound: Inbound, ctx: Context) -> Replies:
    return await _with_code(ctx, "roles", _arguments(inbound))


@router.command("/tel", "/phone", roles=STAFF_ROLES, help="people.about_phone")
async def phone_command(inbound: Inbound, ctx: Context) -> Replies:
    return await _with_code(ctx, "tel", _arguments(inbound))


@router.step(CODE, roles=STAFF_ROLES)
async def typed_code(inbound: Inbound, ctx: Context) -> Replies:
    if _is_cancel(ctx, inbound.text):
        return _cancel(ctx)
    return await _with_code(ctx, ctx.data["flow"], inbound.text)


async def _with_code(ctx: Context, flow: str, arguments: str) -> Replies:
    """The person named by the member code at the start of ``arguments``, then the flow's next step."""
    if not arguments.strip():
        ctx.goto(CODE, flow=flow)
        return [Reply(ctx.t("people.ask_code"))]
    code, rest = _split_code(arguments)
    if code is None:
        ctx.goto(CODE, flow=flow)
        return [Reply(ctx.t("people.bad_code", value=arguments.split()[0][:20]))]
    async with ctx.store.transaction() as db:
        person = await people.by_code(db, code)
    if person is None:
        ctx.goto(CODE, flow=flow)
        return [Reply(ctx.t("people.no_such_code", code=code))]
    base = {"flow": flow, "person_id": person.id, "label": _label(person), "name": person.name}
    if flow == "roles":
        roles = ordered_roles(person.roles)
        ctx.goto(ROLES, **base, roles=roles, before=roles)
        return [_role_picker(ctx)]
    ctx.goto(NEW_PHONE, **base)
    if rest.strip():
        return await _new_phone(ctx, rest)
    return [Reply(ctx.t("people.ask_new_phone", name=_label(person)))]


@router.step(NEW_PHONE, roles=STAFF_ROLES)
async def typed_new_phone(inbound: Inbound, ctx: Context) -> Replies:
    if _is_cancel(ctx, inbound.text):
        return _cancel(ctx)
    return await _new_phone(ctx, inbound.text)


async def _new_phone(ctx: Context, text: str) -> Replies:
    phone = parse_phone(text)
    if phone is None:
        return [Reply(ctx.t("people.bad_phone", value=text.strip()[:30]))]
    person_id = ctx.data["person_id"]
    async with ctx.store.transaction() as db:
        owner = await people.find_person_id(db, phone=phone)
        owner_code = await _code_of(db, owner)
        async with db.execute(
            "SELECT address FROM identities WHERE person_id = ? AND channel = ? ORDER BY id",
            (person_id, Channel.SMS.value),
        ) as cursor:
            current = [row[0] for row in await cursor.fetchall()]
    label = ctx.data["label"]
    if owner == person_id:
        ctx.done()
        return [Reply(ctx.t("people.phone_already_theirs", phone=display_phone(phone), name=label))]
    if owner is not None:
        ctx.done()
        return [Reply(ctx.t("people.phone_taken_by", code=owner_code))]
    if current:
        old = ", ".join(display_phone(address) for address in current)
        summary = ctx.t("people.confirm_phone_replace", phone=display_phone(phone), name=label, old=old)
    else:
        summary = ctx.t("people.confirm_phone", phone=display_phone(phone), name=label)
    return [await _confirm(ctx, summary, **{**ctx.data, "phone": phone})]


# The console's People pages use the functions above; imported last, once the router exists.
from handlers.people import console as _console  # noqa: E402, F401
