"""What a console page is given: the signed-in staff member, their language, the core, and the templates.

Templates are Jinja2, autoescaped, in ``bot/web/templates`` (the frame, login, Today, audit) and in
each feature's ``templates`` folder, named ``<feature>/<file>.html``. Every text in them comes from
the catalogs through ``t(...)``, in the staff member's language; times are shown in ``TIMEZONE``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import jinja2
from babel.dates import format_date, format_datetime, format_time
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from bot.csvfiles import CsvFileError
from bot.web.auth import Session

if TYPE_CHECKING:
    from bot.core import Core

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def templates_for(core: Core) -> Jinja2Templates:
    """One environment for the engine's templates and every feature's, each feature under its name."""
    features = {r.name: jinja2.FileSystemLoader(r.console_templates) for r in core.routers if r.console_templates}
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(TEMPLATES), jinja2.PrefixLoader(features)])
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    return Jinja2Templates(env=env)


T = TypeVar("T")


class Refused(Protocol):
    """A line an import refused, and why (a catalog key)."""

    @property
    def line(self) -> int: ...
    @property
    def key(self) -> str: ...
    @property
    def params(self) -> Mapping[str, Any]: ...


class ImportReport(Protocol):
    @property
    def rejected(self) -> Sequence[Refused]: ...


@dataclass(frozen=True)
class Upload(Generic[T]):
    """An import page's file, read and parsed; it is imported for good only when ``confirmed``."""

    data: bytes
    parsed: T
    confirmed: bool


@dataclass
class View:
    """One request to the console, after its guard: the session is live and its roles allow the page."""

    request: Request
    core: Core
    session: Session
    language: str
    menu: list[tuple[str, str]] = field(default_factory=list)  # (path, label) the person may open

    @property
    def person_id(self) -> int:
        return self.session.person.id

    @property
    def is_admin(self) -> bool:
        return "admin" in self.session.person.roles

    def t(self, key: str, **params: object) -> str:
        return self.core.i18n.t(self.language, key, **params)

    def now(self) -> datetime:
        return self.core.clock.now()

    def local(self, when: datetime) -> datetime:
        return when.astimezone(self.core.settings.tz)

    def when(self, when: datetime | None) -> str:
        """A time as staff read it, "01/12/2026 14:05", in ``TIMEZONE``."""
        if when is None:
            return ""
        return format_datetime(self.local(when), "short", locale=self.language)

    def day(self, when: date) -> str:
        return format_date(when, "full", locale=self.language)

    def hour(self, when: datetime) -> str:
        return format_time(self.local(when), "short", locale=self.language)

    async def form(self) -> FormData:
        return await self.request.form()

    async def file(self, limit: int) -> bytes | None:
        """A file sent with a form: uploaded (field ``file``), or sent back base64 (field ``data``) by the
        confirmation of a trial, so the file staff saw is the one imported."""
        form = await self.form()
        upload = form.get("file")
        if isinstance(upload, UploadFile):
            data = await upload.read(limit + 1)
            await upload.close()
            return data or None
        sent = form.get("data")
        if isinstance(sent, str):
            try:
                return base64.b64decode(sent, validate=True) or None
            except (binascii.Error, ValueError):
                return None
        return None

    async def upload(
        self, template: str, limit: int, parse: Callable[[bytes], T], no_file: str
    ) -> Upload[T] | Response:
        """An import page's file: the empty form on GET; no file, or one that cannot be read, is said on
        the page (400); else the file parsed, to be tried first and imported when confirmed."""
        if self.request.method == "GET":
            return self.render(template)
        form = await self.form()
        data = await self.file(limit)
        if not data:
            return self.render(template, status_code=400, error=self.t(no_file))
        try:
            parsed = parse(data)
        except CsvFileError as exc:
            return self.render(template, status_code=400, error=self.t(exc.key, **exc.params))
        return Upload(data, parsed, form.get("confirm") == "1")

    def imported(self, template: str, upload: Upload[Any], report: ImportReport) -> Response:
        """The import page with its report: each refused line in the reader's language, and the same file
        carried to the confirmation of a trial."""
        return self.render(
            template,
            report=report,
            rejected=[(r.line, self.t(r.key, **r.params)) for r in report.rejected],
            dry_run=not upload.confirmed,
            data=base64.b64encode(upload.data).decode(),
        )

    def values(self, **values: Any) -> dict[str, Any]:
        """What every template may use besides its own values."""
        return {
            "t": self.t,
            "when": self.when,
            "day": self.day,
            "hour": self.hour,
            "csrf": self.session.csrf,
            "me": self.session.person,
            "is_admin": self.is_admin,
            "menu": self.menu,
            "path": self.request.url.path,
            "language": self.language,
            "languages": [
                (code, self.core.i18n.language_name(code, code, title=True)) for code in self.core.i18n.languages
            ],
            **values,
        }

    def render(self, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        templates: Jinja2Templates = self.request.app.state.console_templates
        return templates.TemplateResponse(self.request, template, self.values(**values), status_code=status_code)

    def fragment(self, template: str, **values: Any) -> str:
        """A part of a page (a Today panel, an htmx answer) as HTML."""
        templates: Jinja2Templates = self.request.app.state.console_templates
        return templates.get_template(template).render(self.values(**values))

    def redirect(self, path: str) -> RedirectResponse:
        """After a form: 303 to the page that shows what changed (a reload sends nothing twice)."""
        return RedirectResponse(path, status_code=303)
