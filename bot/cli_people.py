"""``voisins people ...``: staff register people on the command line (the first admin is made here)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from bot.config import ConfigError, Settings, load_settings
from bot.people import PeopleError, Role, normalise_phone

people_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@people_app.command("add")
def add(
    name: Annotated[str, typer.Option("--name", help="The person's name, as they want to be called.")],
    role: Annotated[list[Role], typer.Option("--role", help="A role; repeat for several.")],
    phone: Annotated[str | None, typer.Option("--phone", help="Phone number, 06... or +33...")] = None,
    language: Annotated[str, typer.Option("--language", help="fr or en")] = "fr",
) -> None:
    """Register a person with their roles and phone number; prints their member code."""
    from bot.app import build_core
    from bot.people import add_person, get_person

    settings = _settings()
    e164 = None
    if phone is not None:
        e164 = normalise_phone(phone)
        if e164 is None:
            typer.echo(f"Not a phone number: {phone}", err=True)
            raise typer.Exit(2)

    async def create() -> str:
        core = await build_core(settings)
        try:
            person_id = await add_person(
                core.store, core.clock.now(), name.strip(), {r.value for r in role}, phone=e164, language=language
            )
            async with core.store.transaction() as db:
                person = await get_person(db, person_id)
            return person.member_code or ""
        except PeopleError as exc:
            typer.echo(core.i18n.t(core.i18n.default_language, exc.key, **exc.params), err=True)
            raise typer.Exit(1) from None
        finally:
            await core.close()

    code = asyncio.run(create())
    typer.echo(f"{name.strip()}: {code} ({', '.join(r.value for r in role)})")
