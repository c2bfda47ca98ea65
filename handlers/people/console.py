"""The console's People pages: search, a person's page, register, roles, phone, language, roster, data rights.

The same functions as the chat and the command line: ``people.register`` and ``attach_identity``,
``replace_identity``, ``set_roles``, ``import_roster`` (a dry run first, shown as the line-numbered
table, then the same file for real), ``export_person`` and ``forget_person``. Only an admin changes
roles here; erasing needs the person's member code typed again. Every change writes its audit line
in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.responses import Response

from bot import people
from bot.messages import Channel
from bot.people import PeopleError, Role, privacy
from bot.people.roster import (
    display_phone,
    import_roster,
    ordered_roles,
    parse,
    parse_phone,
    replace_identity,
    roster_rows,
    to_csv,
)
from bot.text import fold
from bot.web import audit
from bot.web.view import View
from handlers.people import router

router.console_templates = Path(__file__).parent / "templates"
ROLES = [role.value for role in Role]
SHOWN = 200  # people listed at once; a search narrows it
# A roster file of a large site, base64 in the confirmation form: more than a form's usual limit.
ROSTER_BYTES = 2 * 1024 * 1024

PHONES = (Channel.SMS.value, Channel.WHATSAPP.value)  # identities whose address is a phone number


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    code: str
    roles: list[str]
    language: str
    channels: list[str]


async def _rows(view: View, query: str) -> list[Row]:
    persons = await view.core.store.fetchall(
        "SELECT id, name, member_code, language FROM persons WHERE status = 'active' ORDER BY name COLLATE NOCASE"
    )
    roles: dict[int, list[str]] = {}
    for r in await view.core.store.fetchall("SELECT person_id, role FROM person_roles"):
        roles.setdefault(r["person_id"], []).append(r["role"])
    channels: dict[int, list[str]] = {}
    for r in await view.core.store.fetchall("SELECT person_id, channel, address FROM identities ORDER BY id"):
        shown = display_phone(r["address"]) if r["channel"] == Channel.SMS.value else r["channel"]
        channels.setdefault(r["person_id"], []).append(shown)
    words = fold(query).split()
    found = []
    for p in persons:
        row = Row(
            p["id"],
            p["name"] or "",
            p["member_code"] or "",
            ordered_roles(roles.get(p["id"], [])),
            p["language"] or "",
            channels.get(p["id"], []),
        )
        haystack = fold(" ".join([row.name, row.code, *row.channels])).replace(" ", "")
        if all(word.replace(" ", "") in haystack or word in fold(row.name).split() for word in words):
            found.append(row)
    return found


@router.console("people", label="people_console.menu", order=20)
async def index(view: View) -> Response:
    query = view.request.query_params.get("q", "")[:60]
    found = await _rows(view, query)
    return view.render("people/index.html", query=query, rows=found[:SHOWN], more=max(0, len(found) - SHOWN))


async def _person(view: View, person_id: int) -> dict[str, Any] | None:
    row = await view.core.store.fetchone(
        "SELECT id, name, member_code, language, status, created_at FROM persons WHERE id = ?", (person_id,)
    )
    if row is None or row["status"] != "active":
        return None
    roles = await view.core.store.fetchall("SELECT role FROM person_roles WHERE person_id = ?", (person_id,))
    identities = await view.core.store.fetchall(
        "SELECT channel, address, opted_out_at, unreachable_at FROM identities WHERE person_id = ? ORDER BY id",
        (person_id,),
    )
    return {
        "id": row["id"],
        "name": row["name"] or "",
        "code": row["member_code"] or "",
        "language": row["language"] or "",
        "roles": ordered_roles(r["role"] for r in roles),
        "identities": [
            {
                "channel": i["channel"],
                "address": display_phone(i["address"]) if i["channel"] in PHONES else i["address"],
                "opted_out": i["opted_out_at"] is not None,
                "unreachable": i["unreachable_at"] is not None,
            }
            for i in identities
        ],
    }


def _id(view: View) -> int:
    return int(view.request.path_params["person_id"])


def _gone(view: View) -> Response:
    return view.render("error.html", status_code=404, message=view.t("people_console.gone"))


async def _show(view: View, person_id: int, status_code: int = 200, **values: Any) -> Response:
    person = await _person(view, person_id)
    if person is None:
        return _gone(view)
    sections = sorted(((o, s) for r in view.core.routers for o, s in r.person_sections), key=lambda item: item[0])
    parts = [await section(view, person_id) for _, section in sections]
    return view.render(
        "people/person.html",
        status_code=status_code,
        person=person,
        sections=[part for part in parts if part],
        all_roles=ROLES,
        **values,
    )


@router.console("people/{person_id:int}")
async def person_page(view: View) -> Response:
    return await _show(view, _id(view), notice=view.request.query_params.get("done"))


@router.console("people/{person_id:int}/roles", methods=("POST",), roles=("admin",))
async def change_roles(view: View) -> Response:
    """Admins only: the roles ticked, shown before and after, saved when confirmed."""
    person_id = _id(view)
    form = await view.form()
    wanted = ordered_roles(str(value) for value in form.getlist("roles") if str(value) in ROLES)
    person = await _person(view, person_id)
    if person is None:
        return _gone(view)
    if not wanted:
        return await _show(view, person_id, 400, error=view.t("people_console.roles_none"))
    if form.get("confirm") != "1":
        return await _show(view, person_id, confirm_roles=wanted)
    async with view.core.store.transaction() as db:
        current = await people.get_person(db, person_id)
        if ordered_roles(current.roles) != person["roles"]:
            return await _show(view, person_id, 409, error=view.t("people_console.changed_meanwhile"))
        await people.set_roles(db, person_id, wanted)
        await audit.record(
            db, view.now(), view.person_id, "people.roles", f"person:{person_id}", person["roles"], wanted
        )
    return view.redirect(f"/console/people/{person_id}?done=roles")


@router.console("people/{person_id:int}/phone", methods=("POST",))
async def change_phone(view: View) -> Response:
    """The person's one SMS number (a lost phone stops getting their messages), confirmed first."""
    person_id = _id(view)
    form = await view.form()
    typed = str(form.get("phone") or "")
    phone = parse_phone(typed)
    if phone is None:
        return await _show(view, person_id, 400, error=view.t("people.bad_phone", value=typed.strip()[:30]))
    if form.get("confirm") != "1":
        return await _show(view, person_id, confirm_phone=phone, confirm_phone_shown=display_phone(phone))
    try:
        async with view.core.store.transaction() as db:
            before = [
                r[0]
                for r in await (
                    await db.execute(
                        "SELECT address FROM identities WHERE person_id = ? AND channel = 'sms'", (person_id,)
                    )
                ).fetchall()
            ]
            await replace_identity(db, view.now(), person_id, Channel.SMS, phone)
            await audit.record(db, view.now(), view.person_id, "people.phone", f"person:{person_id}", len(before), 1)
    except PeopleError as exc:
        return await _show(view, person_id, 400, error=view.t(exc.key, **exc.params))
    return view.redirect(f"/console/people/{person_id}?done=phone")


@router.console("people/{person_id:int}/language", methods=("POST",))
async def change_language(view: View) -> Response:
    person_id = _id(view)
    form = await view.form()
    language = str(form.get("language") or "")
    if language not in view.core.i18n.languages:
        return await _show(view, person_id, 400, error=view.t("people_console.bad_language"))
    person = await _person(view, person_id)
    if person is None:
        return _gone(view)
    async with view.core.store.transaction() as db:
        await db.execute("UPDATE persons SET language = ? WHERE id = ?", (language, person_id))
        await audit.record(
            db, view.now(), view.person_id, "people.language", f"person:{person_id}", person["language"], language
        )
    return view.redirect(f"/console/people/{person_id}?done=language")


@router.console("people/new", methods=("GET", "POST"))
async def register(view: View) -> Response:
    """Name, phone (optional), roles, language; shown, then registered: the new member code is on the next page."""
    if view.request.method == "GET":
        return view.render("people/new.html", values={}, all_roles=ROLES)
    form = await view.form()
    values: dict[str, Any] = {
        "name": str(form.get("name") or "").strip()[:80],
        "phone": str(form.get("phone") or "").strip(),
        "roles": ordered_roles(str(v) for v in form.getlist("roles") if str(v) in ROLES),
        "language": str(form.get("language") or ""),
    }
    error = None
    phone = parse_phone(values["phone"]) if values["phone"] else None
    if not values["name"]:
        error = view.t("people_console.name_needed")
    elif values["phone"] and phone is None:
        error = view.t("people.bad_phone", value=values["phone"][:30])
    elif not values["roles"]:
        error = view.t("people_console.roles_none")
    elif {"admin", "staff"} & set(values["roles"]) and not view.is_admin:
        error = view.t("people_console.admin_only_staff")
    elif values["language"] and values["language"] not in view.core.i18n.languages:
        error = view.t("people_console.bad_language")
    if error is not None:
        return view.render("people/new.html", status_code=400, values=values, all_roles=ROLES, error=error)
    if form.get("confirm") != "1":
        shown = display_phone(phone) if phone else ""
        return view.render("people/new.html", values=values, all_roles=ROLES, confirm=True, phone_shown=shown)
    try:
        async with view.core.store.transaction() as db:
            person_id = await people.register(
                db, view.now(), values["name"], values["roles"], values["language"] or None
            )
            if phone:
                await people.attach_identity(db, view.now(), person_id, Channel.SMS, phone)
            await audit.record(
                db, view.now(), view.person_id, "people.register", f"person:{person_id}", None, values["roles"]
            )
    except PeopleError as exc:
        return view.render(
            "people/new.html", status_code=400, values=values, all_roles=ROLES, error=view.t(exc.key, **exc.params)
        )
    return view.redirect(f"/console/people/{person_id}?done=registered")


@router.console("people/import", methods=("GET", "POST"), max_body=ROSTER_BYTES)
async def import_page(view: View) -> Response:
    """A roster file: tried first (nothing written), its report shown as a table, then imported when confirmed."""
    upload = await view.upload("people/import.html", ROSTER_BYTES, parse, "people_console.import_no_file")
    if isinstance(upload, Response):
        return upload
    real = upload.confirmed
    report = await import_roster(view.core.store, view.now(), upload.parsed, view.core.i18n, dry_run=not real)
    if real:
        async with view.core.store.transaction() as db:
            await audit.record(
                db,
                view.now(),
                view.person_id,
                "people.import",
                None,
                None,
                {"created": report.created, "updated": report.updated, "rejected": len(report.rejected)},
            )
    return view.imported("people/import.html", upload, report)


@router.console("people/export")
async def export(view: View) -> Response:
    """The roster as the command line exports it (same columns, ``;``, a BOM for Excel): it imports back."""
    body = to_csv(await roster_rows(view.core.store))
    name = f"equipe-{view.local(view.now()).date().isoformat()}.csv"
    return Response(
        body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.console("people/{person_id:int}/data")
async def data_page(view: View) -> Response:
    """What the bot keeps about the person (the same export as MES DONNEES), and the erasure form."""
    person_id = _id(view)
    person = await _person(view, person_id)
    if person is None:
        return _gone(view)
    export_ = await privacy.export_person(view.core.store, person_id, view.core.dispatcher.personal_data)
    text = privacy.render_export(export_, view.core.i18n, view.language, footer=" ")
    erasable = privacy.render_erasable(export_, view.core.i18n, view.language, view.core.dispatcher.personal_data)
    return view.render("people/data.html", person=person, export=text.strip(), erasable=erasable)


@router.console("people/{person_id:int}/forget", methods=("POST",))
async def forget(view: View) -> Response:
    """Erasure: only with the person's member code typed again, and never one's own account from here."""
    person_id = _id(view)
    person = await _person(view, person_id)
    if person is None:
        return _gone(view)
    form = await view.form()
    typed = people.normalise_member_code(str(form.get("code") or ""))
    if person_id == view.person_id:
        return view.render("error.html", status_code=400, message=view.t("people_console.forget_self"))
    if typed is None or typed != person["code"]:
        export_ = await privacy.export_person(view.core.store, person_id, view.core.dispatcher.personal_data)
        erasable = privacy.render_erasable(export_, view.core.i18n, view.language, view.core.dispatcher.personal_data)
        text = privacy.render_export(export_, view.core.i18n, view.language, footer=" ").strip()
        return view.render(
            "people/data.html",
            status_code=400,
            person=person,
            export=text,
            erasable=erasable,
            error=view.t("people_console.forget_code_wrong"),
        )
    if "admin" in person["roles"] and not view.is_admin:
        return view.render("error.html", status_code=403, message=view.t("people_console.forget_admin"))
    done = await privacy.forget_person(
        view.core.store, person_id, view.core.dispatcher.personal_data, view.now(), view.core.i18n
    )
    async with view.core.store.transaction() as db:
        await audit.record(
            db,
            view.now(),
            view.person_id,
            "people.forget",
            f"person:{person_id}",
            None,
            {"identities": done.identities},
        )
    return view.redirect("/console/people?done=forgotten")
