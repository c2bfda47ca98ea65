"""The console shows WhatsApp like the other channels: a person's number, and what waits for them."""

from __future__ import annotations

from html import unescape

from bot.clock import FakeClock
from bot.core import Core
from bot.messages import Channel
from bot.outbox import enqueue
from bot.people import identify
from tests.console_kit import Browser

NOUR = "+33639981778"


async def test_today_lists_what_waits_for_a_person_to_write_on_whatsapp(
    core: Core, clock: FakeClock, staff: Browser
) -> None:
    """A message no channel could carry is on Today, with the person's name and why, never its text."""
    person, _ = await identify(core.store, Channel.WHATSAPP, NOUR, clock.now())
    await core.store.execute("UPDATE persons SET name = 'Nour Haddad', status = 'active' WHERE id = ?", (person.id,))
    async with core.store.transaction() as db:
        await enqueue(
            db,
            clock.now(),
            cause="handoff:answer:9",
            channel=Channel.WHATSAPP,
            address=NOUR,
            text="Texte confidentiel",
            person_id=person.id,
        )
    await core.store.execute(
        "UPDATE outbox SET status = 'waiting', error = 'whatsapp: outside the 24-hour window, no template for this"
        " message: waits for the person to write' WHERE cause = 'handoff:answer:9'"
    )
    page = unescape((await staff.client.get("/console/")).text)
    assert "En attente d'un message de la personne" in page
    assert "Nour Haddad" in page and "WhatsApp" in page and "24-hour window" in page
    assert "Texte confidentiel" not in page


async def test_a_persons_page_shows_their_whatsapp_number(core: Core, clock: FakeClock, staff: Browser) -> None:
    """A WhatsApp identity is shown as a phone number, like SMS."""
    person, _ = await identify(core.store, Channel.WHATSAPP, NOUR, clock.now())
    await core.store.execute("UPDATE persons SET name = 'Nour Haddad', status = 'active' WHERE id = ?", (person.id,))
    page = unescape((await staff.client.get(f"/console/people/{person.id}")).text)
    assert "WhatsApp" in page and "06 39 98 17 78" in page
