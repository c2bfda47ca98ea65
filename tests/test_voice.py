"""The telephone menu: signed Twilio Voice webhooks to the real app under uvicorn, answered in TwiML.

The tree is walked as Twilio would walk it: each ``<Gather action>`` the bot returns is posted with
each key a caller may press (and silence, through each ``<Redirect>``), in every offered language.
The SMS of addresses goes through the outbox and the real twilio client to the fake Twilio.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot import voice
from bot.app import build_core
from bot.channels.http import build_http_app
from bot.clock import FakeClock
from bot.core import Core
from tests.conftest import make_settings
from tests.fakes import twilio_voice as tv
from tests.fakes.server import serve
from tests.fakes.wiring import wired

MOBILE = "+33612345678"  # a French mobile: the addresses may be sent by SMS
KARIM = "+33639980002"  # a registered resident and worker of the demo data (French)
LANDLINE = "+33144556677"


class Phone:
    """A caller on the telephone menu."""

    def __init__(self, core: Core, url: str, client: httpx.AsyncClient) -> None:
        self.core, self.url, self.client = core, url, client

    async def post(self, url: str, caller: str, **extra: str) -> tv.Heard:
        response = await tv.post_voice(self.client, self.url, url, tv.call_params(caller, **extra))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        return tv.Heard.of(response.text)

    async def call(self, caller: str) -> tv.Heard:
        return await self.post("/twilio/voice", caller)

    async def press(self, heard: tv.Heard, caller: str, digits: str) -> tv.Heard:
        assert heard.gather is not None, heard
        return await self.post(heard.gather["action"], caller, Digits=digits)

    async def say(self, heard: tv.Heard, caller: str, speech: str) -> tv.Heard:
        assert heard.gather is not None and "speech" in heard.gather["input"], heard
        return await self.post(heard.gather["action"], caller, SpeechResult=speech, Confidence="0.9")


async def _phone(settings_path: Path, clock: FakeClock, **overrides: object) -> AsyncIterator[Phone]:
    core = await build_core(make_settings(settings_path, **overrides), clock)
    try:
        async with serve(build_http_app(core)) as url, httpx.AsyncClient(timeout=60) as client:
            yield Phone(core, url, client)
    finally:
        await core.close()


@pytest.fixture
async def phone(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Phone]:
    async for made in _phone(tmp_path, clock):
        yield made


def t(core: Core, language: str, key: str, **params: object) -> str:
    return core.i18n.t(language, key, **params)


def key_of(heard: tv.Heard, label: str) -> str:
    """The key the menu says to press for ``label`` ("Pour votre solde Trocshop," then "tapez 6.")."""
    after = heard.says[heard.says.index(label) + 1]
    return next(ch for ch in after if ch.isdigit())


async def in_language(phone: Phone, caller: str, language: str) -> tv.Heard:
    """Call and choose ``language`` on the language menu: the main menu."""
    offered = voice.offered_languages(phone.core.settings, phone.core.i18n)
    heard = await phone.call(caller)
    return await phone.press(heard, caller, str(offered.index(language) + 1))


async def walk(phone: Phone, caller: str, language_key: str) -> list[tv.Heard]:
    """Every answer reachable from the language choice ``language_key``, pressing every key and staying silent."""
    first = await phone.call(caller)
    assert first.gather is not None
    frontier: list[tuple[str, dict[str, str]]] = [(first.gather["action"], {"Digits": language_key})]
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    heard_all: list[tv.Heard] = []
    while frontier:
        url, extra = frontier.pop()
        state = (url, tuple(sorted(extra.items())))
        if state in seen:
            continue
        seen.add(state)
        assert len(seen) < 3000, "the menu does not end"
        heard = await phone.post(url, caller, **extra)
        assert heard.says or heard.plays, (url, extra)
        assert all(said for said in heard.says), (url, extra)
        assert heard.gather is not None or heard.hangup, f"a dead end after {url} {extra}"  # answer or menu
        heard_all.append(heard)
        if heard.gather is not None:
            action = heard.gather["action"]
            keys = ["13", "20", "99", "0"] if heard.gather.get("numDigits") == "2" else [*"0123456789", "*"]
            if "/language" in action:
                keys = [language_key, "7"]  # one language per walk; a wrong key
            frontier += [(action, {"Digits": key}) for key in keys]
        if heard.redirect:
            frontier.append((heard.redirect, {}))
    return heard_all


async def test_a_call_starts_with_the_emergency_numbers_then_the_languages(phone: Phone) -> None:
    """Danger 15, 17, 18, 112 and tonight 115, free, before anything; then each language in its own words."""
    heard = await phone.call(MOBILE)
    assert heard.says[0] == t(phone.core, "fr", "voice.emergency")
    for said in ("1, 5", "1, 7", "1, 8", "1, 1, 2", "1, 1, 5", "gratuit"):
        assert said in heard.says[0]
    offered = voice.offered_languages(phone.core.settings, phone.core.i18n)
    assert offered == ["fr", "en", "ar"]  # the languages Twilio speaks; the others need their recordings
    for number, language in enumerate(offered, start=1):
        assert t(phone.core, language, "voice.language_line", digit=number) in heard.says
    assert heard.gather is not None and heard.gather["input"] == "dtmf"
    assert heard.redirect is not None  # silence asks again, then goes on


@pytest.mark.parametrize("language", ["fr", "en", "ar"])
async def test_the_whole_tree_ends_in_answers_or_the_menu(phone: Phone, language: str) -> None:
    """Every key and every silence, in each offered language: answers, never a dead end; every prompt exists."""
    for key in voice.prompt_keys(phone.core.i18n):
        assert phone.core.i18n.has(key, language), f"{language}: {key}"
    offered = voice.offered_languages(phone.core.settings, phone.core.i18n)
    heard = await walk(phone, MOBILE, str(offered.index(language) + 1))
    said = " ".join(h.text for h in heard)
    core = phone.core
    for expected in (
        t(core, language, "orientation.voice.shelter"),
        t(core, language, "orientation.voice.shelter_persist"),
        t(core, language, "orientation.voice.places_intro"),
        t(core, language, "voice.ask_area"),
        t(core, language, "voice.bad_area"),
        t(core, language, "voice.sms_offer"),
        t(core, language, "voice.sms_sent"),
        t(core, language, "voice.repeat"),
        t(core, language, "voice.back_to_menu"),
        t(core, language, "orientation.voice.doctor_note"),
        t(core, language, "voice.goodbye"),
    ):
        assert expected in said, expected
    assert t(core, language, "trocshop.voice.menu.balance") not in said  # an unknown caller has no balance


async def test_the_menu_offers_by_key_and_by_speech_in_the_callers_language(phone: Phone) -> None:
    """Speech is recognised in the language's BCP-47 tag; "une douche" asks the arrondissement."""
    menu = await in_language(phone, MOBILE, "fr")
    assert menu.gather is not None and menu.gather["input"] == "dtmf speech" and menu.gather["language"] == "fr-FR"
    asked = await phone.say(menu, MOBILE, "je voudrais prendre une douche")
    assert t(phone.core, "fr", "voice.ask_area") in asked.text
    english = await in_language(phone, MOBILE, "en")
    assert english.gather is not None and english.gather["language"] == "en-GB"
    fed = await phone.say(english, MOBILE, "where can I get a meal")
    assert t(phone.core, "en", "voice.ask_area") in fed.text


async def test_the_115_is_said_slowly_twice(phone: Phone) -> None:
    """Where to sleep: the 115 twice, slowly, then how to keep trying."""
    menu = await in_language(phone, MOBILE, "fr")
    heard = await phone.press(menu, MOBILE, "1")
    shelter = t(phone.core, "fr", "orientation.voice.shelter")
    assert heard.says.count(shelter) == 2
    assert t(phone.core, "fr", "orientation.voice.shelter_persist") in heard.says
    response = await tv.post_voice(
        phone.client, phone.url, menu.gather["action"] if menu.gather else "", tv.call_params(MOBILE, Digits="1")
    )
    assert response.text.count('<prosody rate="slow">') == 2


async def test_places_near_an_arrondissement_with_address_and_open_now(phone: Phone) -> None:
    """A shower in the 13e: two or three places, each with its street address and whether it is open now."""
    menu = await in_language(phone, MOBILE, "fr")
    asked = await phone.press(menu, MOBILE, "2")
    heard = await phone.press(asked, MOBILE, "13")
    core = phone.core
    assert t(core, "fr", "orientation.voice.places_intro") in heard.says
    states = [
        s
        for s in heard.says
        if s in {t(core, "fr", f"orientation.voice.{k}") for k in ("open_now", "closed_now", "hours_unknown")}
    ]
    assert 2 <= len(states) <= 3
    places = [
        s for s in heard.says if "," in s and s not in states and s != t(core, "fr", "orientation.voice.places_intro")
    ]
    assert any(ch.isdigit() for ch in " ".join(places))  # street numbers
    assert "http" not in heard.text
    assert t(core, "fr", "voice.sms_offer") in heard.says  # a mobile


async def test_press_5_sends_the_addresses_by_sms_once(phone: Phone) -> None:
    """5 after the places: an SMS with the same places reaches the caller's phone, once however often pressed."""
    core = phone.core
    menu = await in_language(phone, MOBILE, "fr")
    asked = await phone.press(menu, MOBILE, "3")
    places = await phone.press(asked, MOBILE, "13")
    done = await phone.press(places, MOBILE, "5")
    assert t(core, "fr", "voice.sms_sent") in done.says
    again = await phone.press(places, MOBILE, "5")
    assert t(core, "fr", "voice.sms_sent") in again.says
    async with wired(core) as (twilio, _):
        await core.outbox.drain()
        (sms,) = twilio.sent_to(MOBILE)
    assert "13" in sms["Body"] and "http" not in sms["Body"].split("13", 1)[0]
    row = await core.store.fetchone("SELECT status FROM outbox WHERE channel = 'sms' AND address = ?", (MOBILE,))
    assert row is not None and row[0] == "sent"


async def test_a_landline_is_not_offered_an_sms(phone: Phone) -> None:
    """A fixed line cannot read a text: no "press 5", and 5 sends nothing."""
    menu = await in_language(phone, LANDLINE, "fr")
    asked = await phone.press(menu, LANDLINE, "2")
    heard = await phone.press(asked, LANDLINE, "13")
    assert t(phone.core, "fr", "voice.sms_offer") not in heard.says
    after = await phone.press(heard, LANDLINE, "5")
    assert t(phone.core, "fr", "voice.sms_sent") not in after.says
    assert await phone.core.store.fetchone("SELECT 1 FROM outbox WHERE address = ?", (LANDLINE,)) is None


async def test_a_wrong_arrondissement_is_asked_again(phone: Phone) -> None:
    """99 is not an arrondissement: said so, and the question again; silence twice is the menu."""
    menu = await in_language(phone, MOBILE, "fr")
    asked = await phone.press(menu, MOBILE, "4")
    wrong = await phone.press(asked, MOBILE, "99")
    assert t(phone.core, "fr", "voice.bad_area") in wrong.says and t(phone.core, "fr", "voice.ask_area") in wrong.says
    assert wrong.redirect is not None
    silent = await phone.post(wrong.redirect, MOBILE)
    assert silent.redirect is not None
    back = await phone.post(silent.redirect, MOBILE)
    assert t(phone.core, "fr", "voice.menu_intro") in back.says


async def test_crisis_words_in_speech_get_the_emergency_numbers_at_once(phone: Phone) -> None:
    """ "je veux mourir", "I want to die": the emergency sentence first, then the words for that danger."""
    for language, words in (("fr", "je veux mourir"), ("en", "I want to die")):
        menu = await in_language(phone, MOBILE, language)
        heard = await phone.say(menu, MOBILE, words)
        assert heard.says[0] == t(phone.core, language, "voice.emergency")
        assert t(phone.core, language, "orientation.voice.crisis") in heard.says


async def test_a_known_number_hears_its_own_language_and_its_own_entries(phone: Phone) -> None:
    """Karim (French, resident and worker): no language question, his balance and his next shift in the menu."""
    core = phone.core
    heard = await phone.call(KARIM)
    assert heard.says[0] == t(core, "fr", "voice.emergency")
    assert t(core, "fr", "voice.menu_intro") in heard.says
    assert t(core, "fr", "trocshop.voice.menu.balance") in heard.says
    assert t(core, "fr", "shifts.voice.menu.next") in heard.says
    assert t(core, "fr", "volunteers.voice.menu.meeting") not in heard.says  # not a volunteer
    answered = await phone.press(heard, KARIM, key_of(heard, t(core, "fr", "trocshop.voice.menu.balance")))
    assert t(core, "fr", "trocshop.voice.balance", hours=2, minutes=0) in answered.says
    shift = await phone.say(heard, KARIM, "mon prochain creneau")
    assert any(s.startswith("Votre prochain créneau") or s == t(core, "fr", "shifts.voice.none") for s in shift.says)


async def test_a_volunteer_hears_the_next_meeting(phone: Phone) -> None:
    """Lucie, a volunteer: the next meeting, a Wednesday 18:30 to 20:00 at the Magasin général."""
    core = phone.core
    heard = await phone.call("+33639980004")
    answered = await phone.press(heard, "+33639980004", key_of(heard, t(core, "fr", "volunteers.voice.menu.meeting")))
    assert "mercredi" in answered.text and "18:30" in answered.text and "Magasin général" in answered.text


async def test_unsigned_or_forged_webhooks_are_refused(phone: Phone) -> None:
    """No signature or a wrong one: 403 on every voice webhook."""
    for path in ("/twilio/voice", "/twilio/voice/menu?lang=fr"):
        params = tv.call_params(MOBILE, Digits="1")
        assert (await tv.post_voice(phone.client, phone.url, path, params, signature="")).status_code == 403
        assert (await tv.post_voice(phone.client, phone.url, path, params, signature="forged")).status_code == 403


async def test_a_recorded_language_is_offered_only_with_every_recording(tmp_path: Path, clock: FakeClock) -> None:
    """Tigrinya, which Twilio cannot speak: offered once every prompt is recorded, played with <Play>, served."""
    recordings = tmp_path / "recordings"
    async for phone in _phone(tmp_path, clock, voice_recordings_dir=recordings):
        keys = voice.prompt_keys(phone.core.i18n)
        (recordings / "ti").mkdir(parents=True)
        for key in keys[1:]:
            (recordings / "ti" / f"{key}.mp3").write_bytes(b"ID3 a recording of " + key.encode())
        assert "ti" not in voice.offered_languages(phone.core.settings, phone.core.i18n)  # one is missing
        (recordings / "ti" / f"{keys[0]}.mp3").write_bytes(b"ID3 the last one")
        offered = voice.offered_languages(phone.core.settings, phone.core.i18n)
        assert "ti" in offered
        first = await phone.call(MOBILE)
        line = "/twilio/voice/audio/ti/voice.language_line.mp3"
        assert any(play.endswith(line) for play in first.plays)
        menu = await phone.press(first, MOBILE, str(offered.index("ti") + 1))
        assert menu.plays and not menu.says  # recordings, values (digits) from the digit recordings
        assert menu.gather is not None and menu.gather["input"] == "dtmf"  # no speech recognition for it
        audio = await phone.client.get(f"{phone.url}{tv.path_of(menu.plays[0])}")
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
        assert (await phone.client.get(f"{phone.url}/twilio/voice/audio/ti/..%2Fsecret.mp3")).status_code == 404
        shower = await phone.press(menu, MOBILE, "2")
        places = await phone.press(shower, MOBILE, "13")
        assert places.says  # the places' names and addresses, French names said by the French voice
        assert all(phone.core.settings.voice_recordings_dir.name not in s for s in places.says)


async def test_a_hang_up_loses_nothing(phone: Phone) -> None:
    """Nothing is kept per call: a call cut after choosing leaves nothing behind (an SMS identity is made only
    when the caller asks for a text), and a new call starts afresh."""
    menu = await in_language(phone, MOBILE, "fr")
    await phone.press(menu, MOBILE, "2")  # then the caller hangs up
    assert await phone.core.store.fetchone("SELECT 1 FROM identities WHERE address = ?", (MOBILE,)) is None
    again = await phone.call(MOBILE)
    assert again.says[0] == t(phone.core, "fr", "voice.emergency")
