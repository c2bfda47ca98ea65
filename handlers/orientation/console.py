"""The console's Places page: the orientation answers' places, kept true by staff.

The list shows what each answer will say and since when it was checked; "vérifié aujourd'hui" is
``directory.check`` (as ``voisins places check``); an edit is the place's CSV row as fields, checked
by ``placefile.check_row`` like a spreadsheet line, then ``directory.put``; import and export are
the command line's file, a trial first. Every change has its audit line in its own transaction.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import Response

from bot.csvfiles import Separator
from bot.web import audit
from bot.web.view import View
from handlers.orientation import directory, placefile, router
from handlers.orientation.directory import Origin

router.console_templates = Path(__file__).parent / "templates"
PLACES_BYTES = 2 * 1024 * 1024


async def _listed(view: View, only_stale: bool, query: str) -> list[dict[str, object]]:
    today = view.local(view.now()).date()
    limit = today - directory.STALE_AFTER
    found = []
    for stored in await directory.stored(view.core.store):
        place = stored.place
        text = f"{place.name} {place.short_name} {place.key} {place.address}".lower()
        if query and query.lower() not in text:
            continue
        stale = stored.verified_on < limit
        if only_stale and not stale:
            continue
        found.append(
            {
                "key": place.key,
                "name": place.name,
                "address": place.address,
                "arrondissement": place.arrondissement,
                "services": ", ".join(stored.entry.get("services") or ()),
                "verified_on": view.day(stored.verified_on),
                "status": stored.entry.get("status") or "",
                "origin": stored.origin,
                "stale": stale,
            }
        )
    return found


@router.console("places", label="orientation_console.menu", order=70)
async def index(view: View) -> Response:
    only_stale = view.request.query_params.get("stale") == "1"
    query = view.request.query_params.get("q", "")[:60]
    places = await _listed(view, only_stale, query)
    done = view.request.query_params.get("done", "")
    return view.render("orientation/index.html", places=places, only_stale=only_stale, query=query, done=done)


@router.console("places/{key:str}/check", methods=("POST",))
async def check(view: View) -> Response:
    """Verified today, after a call or a look at the place's page: the answers then say this month."""
    key = view.request.path_params["key"]
    today = view.local(view.now()).date()
    before = await view.core.store.fetchone("SELECT verified_on FROM places WHERE key = ?", (key,))
    done = await directory.check(view.core.store, key, today, view.now())
    if done is None:
        return view.render("error.html", status_code=404, message=view.t("orientation_console.unknown"))
    async with view.core.store.transaction() as db:
        await audit.record(
            db, view.now(), view.person_id, "places.check", f"place:{key}", before[0] if before else None, str(today)
        )
    return view.redirect(f"/console/places?done=checked#{key}")


@router.console("places/import", methods=("GET", "POST"), max_body=PLACES_BYTES)
async def import_page(view: View) -> Response:
    """A places file (as the export writes it): tried first, its refused lines shown, then imported."""
    upload = await view.upload("orientation/import.html", PLACES_BYTES, placefile.parse, "orientation_console.no_file")
    if isinstance(upload, Response):
        return upload
    rows = placefile.checked_rows(upload.parsed)
    report = await directory.import_places(
        view.core.store, view.now(), rows, Origin.STAFF, dry_run=not upload.confirmed
    )
    if upload.confirmed and report.keys:
        async with view.core.store.transaction() as db:
            await audit.record(db, view.now(), view.person_id, "places.import", None, None, {"places": report.keys})
    return view.imported("orientation/import.html", upload, report)


@router.console("places/export")
async def export(view: View) -> Response:
    """Every place as the CSV file of ``voisins places export``: edited in a spreadsheet, it imports back."""
    found = await directory.stored(view.core.store)
    body = placefile.to_file(((s.entry, s.verified_on) for s in found), Separator.semicolon.value)
    name = f"lieux-{view.local(view.now()).date().isoformat()}.csv"
    return Response(
        body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.today(order=60)
async def places_to_check(view: View) -> str | None:
    """Places not checked for six months, the oldest first: what the Monday notice lists."""
    async with view.core.store.transaction() as db:
        stale = await directory.stale(db, view.local(view.now()).date())
    if not stale:
        return None
    shown = [(s.place.key, s.place.name, view.day(s.verified_on)) for s in stale[:5]]
    return view.fragment("orientation/panel.html", count=len(stale), shown=shown)


# Last: its path would otherwise take /places/import and /places/export for keys.
@router.console("places/{key:str}", methods=("GET", "POST"))
async def edit(view: View) -> Response:
    """The place's row as fields; saved only when it reads as a place (the same rules as an import)."""
    key = view.request.path_params["key"]
    found = [s for s in await directory.stored(view.core.store) if s.place.key == key]
    if not found:
        return view.render("error.html", status_code=404, message=view.t("orientation_console.unknown"))
    stored = found[0]
    cells = placefile.cells_of(stored.entry, stored.verified_on)
    if view.request.method == "GET":
        return view.render("orientation/edit.html", key=key, cells=cells, columns=placefile.COLUMNS)
    form = await view.form()
    typed = {column: str(form.get(column) or "").strip() for column in placefile.COLUMNS}
    typed["key"] = key  # the key names the place everywhere (answers, notices): it does not change here
    try:
        row = placefile.check_row(typed)
    except placefile.RowError as error:
        return view.render(
            "orientation/edit.html",
            status_code=400,
            key=key,
            cells=typed,
            columns=placefile.COLUMNS,
            error=view.t(error.key, **error.params),
        )
    async with view.core.store.transaction() as db:
        outcome = await directory.put(db, row.entry, Origin.STAFF, view.now(), row.verified_on)
        if outcome is not directory.Outcome.UNCHANGED:
            await audit.record(
                db, view.now(), view.person_id, "places.edit", f"place:{key}", stored.entry, directory.normal(row.entry)
            )
    return view.redirect(f"/console/places?done={outcome.value}#{key}")
