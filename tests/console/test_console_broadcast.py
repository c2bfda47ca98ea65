"""The console's Broadcasts page over real HTTP: live counter and count, preview and cost, send, schedule, cancel."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape

from bot.clock import FakeClock
from bot.core import Core
from handlers.broadcast import logic as bc
from tests.conftest import PARIS
from tests.console_kit import Browser
from tests.fakes import wiring
from tests.test_broadcast import RESIDENTS, crowd, last_broadcast, outbox_rows

MARK = re.compile(r'<mark class="bad"[^>]*>([^<]*)</mark>')


def form(csrf: str, fr: str = "Fête à la Lingerie jeudi à 18h30", **values: str) -> dict[str, str]:
    return {"csrf": csrf, "text_fr": fr, "text_en": "", "group": "residents", "when": "now", **values}


async def audit_lines(core: Core) -> list[tuple[str, str | None]]:
    rows = await core.store.fetchall("SELECT action, target FROM console_audit WHERE action LIKE 'broadcast.%'")
    return [(r["action"], r["target"]) for r in rows]


async def preview_and_confirm(browser: Browser, **values: str) -> int:
    """The preview's form, then its confirmation: the broadcast's number."""
    csrf = await browser.csrf("/console/broadcast")
    shown = await browser.client.post("/console/broadcast/preview", data=form(csrf, **values))
    assert shown.status_code == 200, unescape(shown.text)
    broadcast_id = await last_broadcast(browser.core.store)
    sent = await browser.client.post(f"/console/broadcast/{broadcast_id}/send", data={"csrf": csrf, "confirm": "1"})
    assert sent.status_code == 303 and sent.headers["location"].startswith(f"/console/broadcast/{broadcast_id}")
    return broadcast_id


async def test_the_counter_marks_each_character_an_sms_replaces(staff: Browser) -> None:
    """ê, ’ and an emoji are marked with what the SMS has instead; é and à (GSM-7) are not; segments are counted."""
    page = await staff.client.get("/console/broadcast")
    assert page.status_code == 200
    assert 'hx-post="/console/broadcast/count"' in page.text and 'name="text_en"' in page.text
    counted = await staff.client.post(
        "/console/broadcast/count",
        data={"csrf": await staff.csrf(), "language": "fr", "text_fr": "Fête à l’écluse 🎉 dès 18h"},
    )
    assert counted.status_code == 200
    text = unescape(counted.text)
    assert MARK.findall(counted.text) == ["ê", "’", "🎉"]
    assert 'title="par SMS : e">ê</mark>' in text and 'title="par SMS : \'">’</mark>' in text
    assert "25 caractères" in text and "1 segment SMS par personne (GSM-7)" in text
    assert "ê → e, ’ → ', 🎉 → ?" in text and "UCS-2" in text
    assert "deviendront « ? »" in text
    plain = await staff.client.post(
        "/console/broadcast/count", data={"csrf": await staff.csrf(), "language": "fr", "text_fr": "Réunion à 18h"}
    )
    assert "<mark" not in plain.text and "le texte part tel quel" in unescape(plain.text)


async def test_the_audience_is_counted_per_channel(staff: Browser) -> None:
    """The residents on each channel, as the chat's preview counts them; narrowed to SMS, Telegram goes."""
    core = staff.core
    await crowd(core.store, core.clock.now(), telegram=3, sms=1)
    csrf = await staff.csrf()
    both = unescape((await staff.client.post("/console/broadcast/audience", data=form(csrf))).text)
    assert "6 personnes la recevront" in both and "Telegram : 3" in both and "SMS : 3" in both
    assert "En tout 3 segments SMS" in both
    by_sms = unescape((await staff.client.post("/console/broadcast/audience", data=form(csrf, channel="sms"))).text)
    assert "3 personnes la recevront" in by_sms and "Telegram" not in by_sms
    wrong = await staff.client.post("/console/broadcast/audience", data=form(csrf, group="x1"))
    assert "Je ne connais pas" in unescape(wrong.text)


async def test_send_now_queues_for_the_audience_and_the_progress_reaches_the_total(staff: Browser) -> None:
    """Preview with the cost, nothing queued; confirm: one row per resident, an audit line; drained, 2 of 2."""
    core = staff.core
    csrf = await staff.csrf("/console/broadcast")
    shown = await staff.client.post("/console/broadcast/preview", data=form(csrf, fr="Fête à la Lingerie jeudi"))
    text = unescape(shown.text)
    cost = bc.money(2 * core.settings.sms_price_per_segment, "fr")
    assert "2 personnes la recevront" in text and "SMS en français : 2 × 1 segment" in text
    assert f"En tout 2 segments SMS, environ {cost}" in text and "Elle part dès que vous confirmez" in text
    broadcast_id = await last_broadcast(core.store)
    assert await outbox_rows(core.store, broadcast_id) == []
    assert (await bc.get(core.store, broadcast_id)).status == "draft"  # type: ignore[union-attr]
    unconfirmed = await staff.client.post(f"/console/broadcast/{broadcast_id}/send", data={"csrf": csrf})
    assert unconfirmed.status_code == 400 and await outbox_rows(core.store, broadcast_id) == []
    sent = await staff.client.post(f"/console/broadcast/{broadcast_id}/send", data={"csrf": csrf, "confirm": "1"})
    assert sent.status_code == 303
    page = await staff.client.get(sent.headers["location"])
    assert f"Annonce {broadcast_id} confirmée" in unescape(page.text)
    assert f'hx-get="/console/broadcast/{broadcast_id}/progress" hx-trigger="every 2s"' in page.text
    rows = await outbox_rows(core.store, broadcast_id)
    assert sorted(str(r["address"]) for r in rows) == sorted(RESIDENTS)
    assert await audit_lines(core) == [("broadcast.send", f"broadcast:{broadcast_id}")]
    before = unescape((await staff.client.get(f"/console/broadcast/{broadcast_id}/progress")).text)
    assert "0 sur 2" in before and "Avancement" in before
    async with wiring.wired(core) as (twilio, _):
        await core.outbox.drain()
        assert sorted(m["To"] for m in twilio.messages if m["Body"].startswith("Fete")) == sorted(RESIDENTS)
    after = await staff.client.get(f"/console/broadcast/{broadcast_id}/progress")
    shown_after = unescape(after.text)
    assert "2 sur 2" in shown_after and "Rapport final" in shown_after and "terminée" in shown_after
    assert "hx-get" not in after.text  # finished: the fragment stops polling
    listed = unescape((await staff.client.get("/console/broadcast")).text)
    assert f"n° {broadcast_id}" in listed and "terminée" in listed and "2 sur 2" in listed


async def test_a_scheduled_broadcast_sends_nothing_before_its_time(staff: Browser, clock: FakeClock) -> None:
    """Scheduled at 15:00 Paris: at 14:59 nothing is queued nor sent; after 15:00 the residents get it."""
    core = staff.core
    csrf = await staff.csrf("/console/broadcast")
    past = await staff.client.post("/console/broadcast/preview", data=form(csrf, when="later", at="2026-11-25T09:00"))
    assert past.status_code == 400 and "déjà passée" in unescape(past.text)
    shown = await staff.client.post("/console/broadcast/preview", data=form(csrf, when="later", at="2026-11-25T15:00"))
    assert "Elle partira le 25/11/2026 15:00" in unescape(shown.text)
    broadcast_id = await last_broadcast(core.store)
    sent = await staff.client.post(f"/console/broadcast/{broadcast_id}/send", data={"csrf": csrf, "confirm": "1"})
    page = unescape((await staff.client.get(sent.headers["location"])).text)
    assert "programmée : elle partira le 25/11/2026 15:00" in page.lower()
    assert await audit_lines(core) == [("broadcast.schedule", f"broadcast:{broadcast_id}")]
    listed = unescape((await staff.client.get("/console/broadcast")).text)
    assert "programmée pour le 25/11/2026 15:00" in listed
    async with wiring.wired(core) as (twilio, _):
        clock.set(datetime(2026, 11, 25, 14, 59, tzinfo=PARIS))
        await wiring.run(core)
        assert await outbox_rows(core.store, broadcast_id) == []
        assert not [m for m in twilio.messages if m["Body"].startswith("Fete")]
        clock.set(datetime(2026, 11, 25, 15, 0, 1, tzinfo=PARIS))
        await wiring.run(core)
        await wiring.run(core)
        assert sorted(m["To"] for m in twilio.messages if m["Body"].startswith("Fete")) == sorted(RESIDENTS)


async def test_cancel_asks_first_then_stops_the_pending_rows(staff: Browser) -> None:
    """The first POST only asks (nothing changes); confirmed, the pending rows are cancelled, with an audit line."""
    core = staff.core
    broadcast_id = await preview_and_confirm(staff)
    csrf = await staff.csrf(f"/console/broadcast/{broadcast_id}")
    asked = await staff.client.post(f"/console/broadcast/{broadcast_id}/cancel", data={"csrf": csrf})
    assert f"Arrêter l'annonce {broadcast_id} ? 2 messages pas encore partis" in unescape(asked.text)
    assert {r["status"] for r in await outbox_rows(core.store, broadcast_id)} == {"pending"}
    done = await staff.client.post(f"/console/broadcast/{broadcast_id}/cancel", data={"csrf": csrf, "confirm": "1"})
    assert done.status_code == 303
    page = unescape((await staff.client.get(done.headers["location"])).text)
    assert f"Annonce {broadcast_id} arrêtée : 2 messages ne partiront pas" in page and "arrêtée" in page
    assert {r["status"] for r in await outbox_rows(core.store, broadcast_id)} == {"cancelled"}
    assert await audit_lines(core) == [
        ("broadcast.send", f"broadcast:{broadcast_id}"),
        ("broadcast.cancel", f"broadcast:{broadcast_id}"),
    ]
    again = await staff.client.post(f"/console/broadcast/{broadcast_id}/cancel", data={"csrf": csrf, "confirm": "1"})
    assert again.status_code == 400 and "déjà arrêtée" in unescape(again.text)


async def test_a_scheduled_broadcast_cancelled_never_leaves(staff: Browser, clock: FakeClock) -> None:
    """Cancelled before its time, a scheduled broadcast queues and sends nothing when the time comes."""
    core = staff.core
    broadcast_id = await preview_and_confirm(staff, when="later", at="2026-11-25T15:00")
    csrf = await staff.csrf(f"/console/broadcast/{broadcast_id}")
    asked = await staff.client.post(f"/console/broadcast/{broadcast_id}/cancel", data={"csrf": csrf})
    assert "programmée pour le 25/11/2026 15:00" in unescape(asked.text)
    await staff.client.post(f"/console/broadcast/{broadcast_id}/cancel", data={"csrf": csrf, "confirm": "1"})
    async with wiring.wired(core) as (twilio, _):
        clock.set(datetime(2026, 11, 25, 15, 0, 1, tzinfo=PARIS))
        await wiring.run(core)
        assert await outbox_rows(core.store, broadcast_id) == []
        assert not [m for m in twilio.messages if m["Body"].startswith("Fete")]
    assert (await bc.get(core.store, broadcast_id)).status == "cancelled"  # type: ignore[union-attr]


async def test_wrong_input_is_shown_on_the_page_and_nothing_is_made(staff: Browser) -> None:
    """No French text, or nobody in the audience: a clear message (400), no broadcast left behind."""
    core = staff.core
    csrf = await staff.csrf("/console/broadcast")
    empty = await staff.client.post("/console/broadcast/preview", data=form(csrf, fr="  "))
    assert empty.status_code == 400 and "Le texte est vide" in unescape(empty.text)
    nobody = await staff.client.post("/console/broadcast/preview", data=form(csrf, channel="telegram"))
    assert nobody.status_code == 400 and "Personne ne recevrait cette annonce" in unescape(nobody.text)
    assert "Fête à la Lingerie" in unescape(nobody.text)  # the text typed is kept
    assert await core.store.fetchone("SELECT 1 FROM broadcasts") is None
    assert await audit_lines(core) == []


async def test_a_preview_changed_or_abandoned_sends_nothing(staff: Browser) -> None:
    """Change fills the form again from the draft; abandon deletes it; its confirmation is then refused."""
    core = staff.core
    csrf = await staff.csrf("/console/broadcast")
    await staff.client.post("/console/broadcast/preview", data=form(csrf, fr="Atelier vélo samedi", channel="sms"))
    broadcast_id = await last_broadcast(core.store)
    change = unescape((await staff.client.get(f"/console/broadcast?draft={broadcast_id}")).text)
    assert "Atelier vélo samedi</textarea>" in change and '<option value="sms" selected>' in change
    gone = await staff.client.post(f"/console/broadcast/{broadcast_id}/discard", data={"csrf": csrf})
    assert gone.status_code == 303 and await bc.get(core.store, broadcast_id) is None
    late = await staff.client.post(f"/console/broadcast/{broadcast_id}/send", data={"csrf": csrf, "confirm": "1"})
    assert late.status_code == 400 and "n'est plus valable" in unescape(late.text)
    assert await outbox_rows(core.store, broadcast_id) == []
