"""The staff console in a real Chromium, against a real ``voisins run``: what a social worker does, click by click."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.core import Core
from handlers.shifts import model
from tests.browser_kit import STAFF_CHAT, site, until
from tests.conftest import PARIS
from tests.helpers import conciergerie_shift


async def test_staff_log_in_with_the_code_received_through_telegram_and_log_out(tmp_path: Path) -> None:
    """Awa types her member code, reads the code the bot sent her on Telegram, lands on Today; logout ends it."""
    async with site(tmp_path) as running:
        page = await running.page()
        await running.log_in(page)
        assert "Messages à envoyer" in await page.content()
        await running.screenshot(page, "today")
        await page.get_by_role("button", name="Se déconnecter").click()
        await page.get_by_role("heading", name="Connexion à la console").wait_for()
        await page.goto(f"{running.url}/console/")
        await page.get_by_role("heading", name="Connexion à la console").wait_for()
        assert "Code de connexion" in running.telegram.sent_to(STAFF_CHAT)[-1]["text"]


async def test_staff_answer_a_hand_off_and_the_reply_reaches_the_resident_by_sms(tmp_path: Path) -> None:
    """Karim asks by SMS to talk to someone; Awa opens the conversation, answers; Twilio gets the SMS to Karim."""
    karim = "+33639980002"
    async with site(tmp_path) as running:
        told = await running.sms(karim, "je veux parler a quelqu un")
        assert any("equipe" in text.lower() or "équipe" in text.lower() for text in told), told
        await running.sms(karim, "c est pour mon dossier caf")
        page = await running.page()
        await running.log_in(page)
        await page.get_by_role("link", name="Conversations").first.click()
        await page.get_by_role("link", name="Karim Benali").first.click()
        await page.get_by_text("c est pour mon dossier caf").first.wait_for()
        await page.get_by_label("Votre réponse").fill("Bonjour Karim, passez a l'accueil demain a 10h.")
        await page.get_by_role("button", name="Envoyer").click()
        await page.get_by_text("Réponse envoyée").wait_for()
        await until(lambda: any("passez a l'accueil demain" in m["Body"] for m in running.twilio.sent_to(karim)))
        await page.get_by_role("button", name="Fermer la conversation").click()
        await until(lambda: len(running.twilio.sent_to(karim)) >= 2)


async def test_staff_credit_time_with_a_reason_and_see_it_in_the_ledger(tmp_path: Path) -> None:
    """Awa finds Karim, credits 1 h 30 for the garden, confirms the preview; the ledger shows it, Karim is told."""
    karim = "+33639980002"
    async with site(tmp_path) as running:
        page = await running.page()
        await running.log_in(page)
        await page.get_by_role("navigation").get_by_role("link", name="Trocshop").click()
        await page.get_by_role("link", name="Karim Benali").first.click()
        await page.locator("#credit-amount").fill("1h30")
        await page.locator("#credit-reason").fill("Jardinage du jardin partagé")
        await page.locator("#credit-reason").press("Enter")
        await page.get_by_role("button", name="Confirmer et enregistrer").click()
        await page.get_by_text("Jardinage du jardin partagé").first.wait_for()
        await until(lambda: any("1 h 30" in m["Body"] or "1h30" in m["Body"] for m in running.twilio.sent_to(karim)))
        rows = running.rows("SELECT memo FROM troc_entries WHERE memo LIKE '%Jardinage%'")
        assert rows, "no ledger entry"


async def test_staff_send_a_broadcast_and_watch_it_finish(tmp_path: Path) -> None:
    """Awa writes an announcement, sees the preview with its cost, sends it; progress reaches the final report."""
    async with site(tmp_path) as running:
        page = await running.page()
        await running.log_in(page)
        await page.get_by_role("navigation").get_by_role("link", name="Annonces").click()
        await page.locator("#text-fr").fill("Fête des voisins jeudi à 18h, cour principale.")
        await running.screenshot(page, "broadcasts")
        await page.get_by_role("button", name="Voir l'aperçu et le coût").click()
        await page.get_by_role("button", name="Confirmer et envoyer").click()
        await page.get_by_role("heading", name="Rapport final").wait_for()
        people = running.rows("SELECT COUNT(*) FROM persons WHERE status = 'active'")[0][0]
        sent = running.rows("SELECT COUNT(*) FROM outbox WHERE cause LIKE 'broadcast:%' AND status = 'sent'")[0][0]
        assert isinstance(people, int) and isinstance(sent, int) and sent >= 3
        assert any("Fete des voisins jeudi" in m["Body"] for m in running.twilio.messages)


async def karims_week(core: Core) -> tuple[int, str]:
    """In two weeks (past the demo shifts), Karim has 12 h at the Conciergerie; a third 6 h shift has a seat."""
    now = core.clock.now()
    today = now.astimezone(PARIS).date()
    monday = today + timedelta(days=14 - today.weekday())
    karim = await core.store.fetchone("SELECT id FROM persons WHERE member_code = 'GV-K7P2'")
    assert karim is not None
    async with core.store.transaction() as db:
        await model.set_contract(db, now, karim["id"], 16 * 60, monday)
        for offset in (0, 1):
            await conciergerie_shift(
                db, now, core.i18n, monday + timedelta(days=offset), "08:00", "14:00", karim["id"], capacity=2
            )
        third = await conciergerie_shift(db, now, core.i18n, monday + timedelta(days=2), "08:00", "14:00", capacity=2)
    return third.id, monday.isoformat()


async def test_an_assignment_that_would_pass_the_16_hours_is_refused_with_the_figures(tmp_path: Path) -> None:
    """A third 6 h shift for Karim is refused with "12 h prévues + 6 h = 18 h > 16 h"; nothing changes."""
    async with site(tmp_path, karims_week) as running:
        shift_id, monday = running.scene  # type: ignore[misc]
        page = await running.page()
        await running.log_in(page)
        await page.goto(f"{running.url}/console/shifts?week={monday}")
        await page.get_by_text("Nettoyage des locaux").first.wait_for()
        await running.screenshot(page, "shifts")
        await page.goto(f"{running.url}/console/shifts/shift/{shift_id}")
        await page.get_by_role("button", name="Affecter Karim Benali").click()
        await page.get_by_text("12 h prévues + 6 h = 18 h > 16 h").first.wait_for()
        assigned = running.rows(
            "SELECT COUNT(*) FROM shift_assignments WHERE shift_id = ? AND status = 'assigned'", (shift_id,)
        )
        assert assigned == [(0,)]
