"""A broadcast carries a text per language; its preview gives each text's SMS segments and cost, and the
readers of each language get their own text, in their script, as typed."""

from __future__ import annotations

from bot.i18n import I18n
from bot.sms_text import segments
from handlers.broadcast import logic as bc
from tests.conftest import PARIS, Talk
from tests.test_broadcast import crowd, last_broadcast, outbox_rows, read_all, staff_here

I18N = I18n()
FRENCH = "Repas partagé jeudi 18h30 à la Lingerie"
ARABIC = "وجبة مشتركة يوم الخميس الساعة 18:30 في la Lingerie. مرحبا بالجميع، مجانا."
TIGRINYA = "ሓሙስ 18:30 ኣብ la Lingerie ናይ ሓባር መግቢ ኣሎ። ኩሉኹም ብነጻ ተዓደሙ።"


def test_each_language_text_has_its_segments_and_cost() -> None:
    """French in GSM-7, Arabic and Tigrinya in UCS-2 as typed: each line says how many, how many segments, what cost."""
    texts = [bc.SmsText.of("fr", FRENCH), bc.SmsText.of("ar", ARABIC), bc.SmsText.of("ti", TIGRINYA)]
    assert [t.segments for t in texts] == [1, 2, 1]
    assert texts[1].sent == ARABIC and not texts[1].would_be_ucs2  # nothing replaced: sent as typed
    preview = bc.Preview(
        bc.Audience(),
        {"telegram": 0, "sms": 6},
        dict.fromkeys(bc.SKIP_REASONS, 0),
        [*zip(texts, (3, 2, 1))],
        0.08,
        None,
    )
    shown = bc.render_preview(I18N, "fr", 4, preview, urgent=False, tz=PARIS)
    assert "SMS en français : 3 × 1 segment, environ 0,24\u00a0€" in shown, shown
    assert "SMS en arabe : 2 × 2 segments, environ 0,32\u00a0€" in shown, shown
    assert "SMS en tigrigna : 1 × 1 segment, environ 0,08\u00a0€" in shown, shown
    assert "En tout 8 segments SMS, environ 0,64\u00a0€" in shown, shown
    assert "remplacés" not in shown


async def test_staff_give_an_arabic_text_and_its_readers_get_it(talk: Talk) -> None:
    """In the chat: skip English with its button, type the Arabic, AUCUN ends the texts; the preview costs each."""
    await staff_here(talk)
    now = talk.core.clock.now()
    _, arabic = await crowd(talk.core.store, now, sms=2, language="ar")
    _, french = await crowd(talk.core.store, now, sms=1, start=10, language="fr")
    await talk(f"/annonce {FRENCH}", who="staff")
    asked = await talk.choose(1, who="staff")
    assert asked.has("arabe"), asked.text
    asked_next = await talk(ARABIC, who="staff")
    assert asked_next.has("persan"), asked_next.text  # Dari next, the languages in their configured order
    audience = await talk("aucun", who="staff")
    assert audience.has("qui"), audience.text
    said = await read_all(talk, await talk("résidents sms", who="staff"))
    arabic_cost = segments(ARABIC).count
    assert said.has(f"SMS en arabe : 2 × {arabic_cost} segments, environ", "SMS en francais :"), said.text
    await talk.confirm(said, who="staff")
    rows = await outbox_rows(talk.core.store, await last_broadcast(talk.core.store))
    bodies = {str(row["address"]): str(row["body"]) for row in rows}
    assert all(bodies[number] == ARABIC for number in arabic)
    assert all(bodies[number] == FRENCH for number in french)


async def test_one_answer_ends_the_texts_whatever_the_languages_left(talk: Talk) -> None:
    """Six languages, and the staff write French only: "Pas d'autre texte" (or AUCUN) goes to the audience."""
    await staff_here(talk)
    asked = await talk(f"/annonce {FRENCH}", who="staff")
    assert asked.has("anglais", "Pas de texte en anglais", "Pas d'autre texte"), asked.text
    audience = await talk.choose(2, who="staff")
    assert audience.has(I18N.t("fr", "broadcast.audience_residents")), audience.text
    assert not audience.has("Texte en arabe")
