"""The console's Conversations page: residents who asked for a person, answered by staff on their own channel.

A thin face of :mod:`handlers.handoff.model`: the list of open conversations (who waits since when),
one conversation with its messages and the person's last exchanges with the bot, the answer form and
closing. The answer leaves through the outbox, on the channel the person wrote from. The list and
the thread refresh themselves (htmx) so a new message shows without reloading.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.responses import HTMLResponse, Response

from bot.web import audit
from bot.web.view import View
from handlers.handoff import model, router
from handlers.handoff.model import HandoffError

router.console_templates = Path(__file__).parent / "templates"


def _name(view: View, summary: model.Summary) -> str:
    return (
        summary.person_name
        or summary.member_code
        or view.t("handoff_console.guest", channel=view.t(f"console.channel_{summary.channel.value}"))
    )


@router.console("conversations", label="handoff_console.menu", order=10)
async def index(view: View) -> Response:
    now = view.now()
    opened = await model.list_open(view.core.store, now)
    closed = await model.list_closed(view.core.store, now, limit=20)
    values: dict[str, Any] = {"opened": opened, "closed": closed, "name": lambda s: _name(view, s)}
    if view.request.headers.get("hx-request"):
        return HTMLResponse(view.fragment("handoff/list.html", **values))
    return view.render("handoff/index.html", **values)


async def _thread(view: View, conversation_id: int, status_code: int = 200, **values: Any) -> Response:
    try:
        thread = await model.get(view.core.store, conversation_id, view.now())
    except HandoffError as exc:
        return view.render("error.html", status_code=404, message=view.t(exc.key, **exc.params))
    page: dict[str, Any] = {"thread": thread, "name": _name(view, thread.conversation), **values}
    if view.request.headers.get("hx-request") and view.request.method == "GET":
        return HTMLResponse(view.fragment("handoff/messages.html", **page))
    return view.render("handoff/thread.html", status_code=status_code, **page)


@router.console("conversations/{conversation_id:int}")
async def show(view: View) -> Response:
    return await _thread(view, int(view.request.path_params["conversation_id"]))


@router.console("conversations/{conversation_id:int}/answer", methods=("POST",))
async def answer(view: View) -> Response:
    """The answer as typed goes to the person (a short SMS or a Telegram message), and is filed here."""
    conversation_id = int(view.request.path_params["conversation_id"])
    form = await view.form()
    text = str(form.get("text") or "")
    try:
        message = await model.answer(
            view.core.store,
            view.core.clock,
            view.core.i18n,
            conversation_id,
            view.person_id,
            text,
            outbox=view.core.outbox,
        )
    except HandoffError as exc:
        return await _thread(view, conversation_id, 400, error=view.t(exc.key, **exc.params), text=text)
    async with view.core.store.transaction() as db:
        await audit.record(
            db,
            view.now(),
            view.person_id,
            "handoff.answer",
            f"conversation:{conversation_id}",
            None,
            {"message": message.id},
        )
    return view.redirect(f"/console/conversations/{conversation_id}?sent=1")


@router.console("conversations/{conversation_id:int}/close", methods=("POST",))
async def close(view: View) -> Response:
    """Closed: the person is told their messages no longer reach the team, and how to ask again."""
    conversation_id = int(view.request.path_params["conversation_id"])
    try:
        closed = await model.close(
            view.core.store, view.core.clock, view.core.i18n, conversation_id, view.person_id, outbox=view.core.outbox
        )
    except HandoffError as exc:
        return await _thread(view, conversation_id, 400, error=view.t(exc.key, **exc.params))
    if closed:
        async with view.core.store.transaction() as db:
            await audit.record(db, view.now(), view.person_id, "handoff.close", f"conversation:{conversation_id}")
    return view.redirect("/console/conversations")


@router.today(order=10)
async def waiting(view: View) -> str | None:
    """Open conversations first on Today: someone asked for a person."""
    opened = await model.list_open(view.core.store, view.now())
    if not opened:
        return None
    return view.fragment("handoff/panel.html", opened=opened, name=lambda s: _name(view, s))
