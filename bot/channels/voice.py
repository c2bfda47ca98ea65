"""The telephone menu through Twilio Voice: signed webhooks answered in TwiML, recordings served.

``POST /twilio/voice`` answers a call: the emergency sentence first, then the menu in the caller's
language when their number is known, else the language choice. Each ``<Gather>`` posts to a path
under ``/twilio/voice/`` whose query carries the state (language, entry, arrondissement): Twilio
signs the whole URL it calls, so the state cannot be forged, and nothing is kept per call. Each
``<Gather>`` is followed by a ``<Redirect>`` for the no-input case: once, the question again;
twice, the menu (or, on the menu itself, the emergency sentence and the end of the call).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeAlias
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route
from twilio.twiml.voice_response import Gather, VoiceResponse

from bot import outbox, people, voice
from bot.channels.sms import signed_form
from bot.core import Core
from bot.messages import Channel
from bot.people import Person, normalise_phone
from bot.voice import Part, Spoken, VoiceCall, VoiceEntry

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024  # a Twilio voice webhook is a few kilobytes
BASE = "/twilio/voice"
GATHER_TIMEOUT = 6  # seconds of silence before the <Redirect> after a <Gather>
_KEY = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
Container: TypeAlias = VoiceResponse | Gather


@dataclass
class Call:
    """One webhook of one call: who calls, in which language, what they may choose."""

    core: Core
    form: FormData
    person: Person | None
    phone: str | None
    language: str
    offered: list[str]

    @property
    def entries(self) -> list[VoiceEntry]:
        return voice.entries(self.core.routers)

    @property
    def menu(self) -> dict[str, VoiceEntry]:
        return voice.menu(self.entries, self.person)

    @property
    def tts(self) -> bool:
        return voice.has_tts(self.language)

    def value(self, name: str) -> str:
        found = self.form.get(name)
        return found.strip() if isinstance(found, str) else ""

    def handler_call(self) -> VoiceCall:
        core = self.core
        return VoiceCall(
            core.store, core.clock, core.settings, core.i18n, self.language, self.person, self.phone, self.tts
        )

    def url(self, step: str, **state: object) -> str:
        query = urlencode({"lang": self.language, **{k: v for k, v in state.items() if v is not None}})
        return f"{self.core.settings.public_url or ''}{BASE}/{step}?{query}"


# -- saying things -------------------------------------------------------------------------------


def _audio_url(core: Core, language: str, key: str) -> str:
    return f"{core.settings.public_url or ''}{BASE}/audio/{language}/{key}{voice.RECORDING_SUFFIX}"


def say(call: Call, where: Container, parts: list[Part] | tuple[Part, ...], language: str | None = None) -> None:
    """Each part in ``language`` (the call's): ``<Say>`` where Twilio speaks it, else its recording
    and its values (digits from the digit recordings, the rest in the default language's voice)."""
    core, language = call.core, language or call.language
    spec = voice.voices().get(language)
    if spec is not None and spec.say is not None:
        for part in parts:
            text = core.i18n.t(language, part.key, **part.params)
            if part.slow:
                where.say(voice=spec.voice, language=spec.say).prosody(text, rate="slow")
            else:
                where.say(text, voice=spec.voice, language=spec.say)
        return
    default = voice.voices()[core.i18n.default_language]
    for part in parts:
        where.play(_audio_url(core, language, part.key))
        for value in part.params.values():
            said = str(value)
            if said.isdigit():
                for digit in said:
                    where.play(_audio_url(core, language, f"{voice.DIGIT_PREFIX}{digit}"))
            elif said.strip():
                where.say(said, voice=default.voice, language=default.say)


def twiml(response: VoiceResponse) -> Response:
    return Response(str(response), media_type="application/xml")


def _gather(call: Call, action: str, digits: int, speech: bool = False) -> Gather:
    spec = voice.voices().get(call.language)
    if speech and spec is not None and spec.speech is not None:
        return Gather(
            input="dtmf speech",
            action=action,
            method="POST",
            num_digits=digits,
            timeout=GATHER_TIMEOUT,
            language=spec.speech,
            speech_timeout="auto",
        )
    return Gather(input="dtmf", action=action, method="POST", num_digits=digits, timeout=GATHER_TIMEOUT)


# -- the screens ---------------------------------------------------------------------------------


def language_screen(call: Call, response: VoiceResponse, silent: int = 0) -> VoiceResponse:
    """Each language's line in that language: "pour le français, tapez 1"."""
    gather = _gather(call, call.url("language"), 1)
    for number, language in enumerate(call.offered, start=1):
        say(call, gather, [Part("voice.language_line", {"digit": number})], language)
    response.append(gather)
    response.redirect(call.url("language", silent=silent + 1), method="POST")
    return response


def menu_screen(call: Call, response: VoiceResponse, silent: int = 0) -> VoiceResponse:
    """The menu: one line per entry this caller may use, then how to change language and repeat."""
    gather = _gather(call, call.url("menu"), 1, speech=True)
    parts = [Part("voice.menu_intro")]
    for digit, entry in call.menu.items():
        assert entry.label_key is not None
        parts += [Part(entry.label_key), Part("voice.press", {"digit": digit})]
    spec = voice.voices().get(call.language)
    if spec is not None and spec.speech is not None:
        parts.append(Part("voice.or_say"))
    if len(call.offered) > 1:
        parts.append(Part("voice.language_change"))
    parts.append(Part("voice.repeat"))
    say(call, gather, parts)
    response.append(gather)
    response.redirect(call.url("menu", silent=silent + 1), method="POST")
    return response


def area_screen(call: Call, response: VoiceResponse, entry: VoiceEntry, silent: int = 0) -> VoiceResponse:
    gather = _gather(call, call.url("area", entry=entry.key), 2)
    say(call, gather, [Part("voice.ask_area")])
    response.append(gather)
    response.redirect(call.url("area", entry=entry.key, silent=silent + 1), method="POST")
    return response


def options_screen(
    call: Call, response: VoiceResponse, entry: VoiceEntry, area: int | None, sms: bool, silent: int = 0
) -> VoiceResponse:
    """After an answer: 5 for the addresses by SMS (to a mobile), 9 to hear it again, 0 for the menu."""
    gather = _gather(call, call.url("after", entry=entry.key, area=area), 1)
    parts = [Part("voice.sms_offer")] if sms and voice.is_mobile(call.phone) else []
    say(call, gather, [*parts, Part("voice.repeat"), Part("voice.back_to_menu")])
    response.append(gather)
    response.redirect(call.url("after", entry=entry.key, area=area, silent=silent + 1), method="POST")
    return response


async def answer_screen(call: Call, response: VoiceResponse, entry: VoiceEntry, area: int | None) -> VoiceResponse:
    """The entry's answer (after the emergency sentence when danger words brought it), then the options."""
    spoken = await entry.handler(call.handler_call(), area)
    parts = [Part("voice.emergency"), *spoken.parts] if entry.urgent is not None else list(spoken.parts)
    say(call, response, parts)
    return options_screen(call, response, entry, area, spoken.sms is not None)


async def choose(call: Call, response: VoiceResponse, entry: VoiceEntry) -> VoiceResponse:
    if entry.area:
        return area_screen(call, response, entry)
    return await answer_screen(call, response, entry, None)


# -- the webhooks --------------------------------------------------------------------------------


async def _call(request: Request) -> Call | Response:
    """The signed webhook's call, its language from the URL, else the caller's own, else the default."""
    core: Core = request.app.state.core
    form = await signed_form(core, request)
    if isinstance(form, Response):
        return form
    sender = form.get("From")
    phone = normalise_phone(sender) if isinstance(sender, str) and sender else None
    person = await voice.caller(core.store, phone)
    offered = voice.offered_languages(core.settings, core.i18n)
    language = request.query_params.get("lang")
    if language not in offered:
        known = person.language if person is not None else None
        language = known if known in offered else core.i18n.default_language
    assert language is not None
    return Call(core, form, person, phone, language, offered)


def _silent(request: Request) -> int:
    raw = request.query_params.get("silent", "0")
    return int(raw) if raw.isdigit() else 0


def _entry(call: Call, request: Request) -> VoiceEntry | None:
    """The entry the URL names, when this caller may use it (a role lost since is refused)."""
    key = request.query_params.get("entry")
    return next((e for e in call.entries if e.key == key and e.allowed(call.person)), None)


def _area(request: Request) -> int | None:
    return voice.arrondissement(request.query_params.get("area", "").zfill(2))


async def incoming(call: Call, request: Request, response: VoiceResponse) -> VoiceResponse:
    """A call starts: the emergency sentence, then the menu (known language) or the language choice."""
    known = call.person.language if call.person is not None else None
    if known in call.offered:
        say(call, response, [Part("voice.emergency")])
        return menu_screen(call, response)
    say(call, response, [Part("voice.emergency")], call.core.i18n.default_language)
    if len(call.offered) == 1:
        return menu_screen(call, response)
    return language_screen(call, response)


async def chosen_language(call: Call, request: Request, response: VoiceResponse) -> VoiceResponse:
    digits = call.value("Digits")
    if digits.isdigit() and 1 <= int(digits) <= len(call.offered):
        call.language = call.offered[int(digits) - 1]
        return menu_screen(call, response)
    silent = _silent(request)
    if not digits and silent >= 2:
        return menu_screen(call, response)
    say(call, response, [Part("voice.no_input" if not digits else "voice.not_understood")])
    return language_screen(call, response, silent)


async def menu_choice(call: Call, request: Request, response: VoiceResponse) -> VoiceResponse:
    """A key or words in the menu; danger words first, whatever else was said."""
    digits, speech = call.value("Digits"), call.value("SpeechResult")
    if speech:
        danger = voice.urgent(call.entries, call.core.i18n, speech)
        if danger is not None:
            return await answer_screen(call, response, danger, None)
        entry = voice.heard(call.menu, call.core.i18n, speech)
        if entry is not None:
            return await choose(call, response, entry)
        say(call, response, [Part("voice.not_understood")])
        return menu_screen(call, response)
    if digits in call.menu:
        return await choose(call, response, call.menu[digits])
    if digits == "*" and len(call.offered) > 1:
        return language_screen(call, response)
    if digits in ("9", "0"):
        return menu_screen(call, response)
    if digits:
        say(call, response, [Part("voice.not_understood")])
        return menu_screen(call, response)
    silent = _silent(request)
    if silent >= 2:
        say(call, response, [Part("voice.emergency"), Part("voice.goodbye")])
        response.hangup()
        return response
    say(call, response, [Part("voice.no_input")])
    return menu_screen(call, response, silent)


async def area_choice(call: Call, request: Request, response: VoiceResponse) -> VoiceResponse:
    """Two keys, the arrondissement; anything else is asked again, silence twice is the menu."""
    entry = _entry(call, request)
    if entry is None:
        return menu_screen(call, response)
    digits = call.value("Digits")
    area = voice.arrondissement(digits)
    if area is not None:
        return await answer_screen(call, response, entry, area)
    silent = _silent(request)
    if digits in ("0", "00"):
        return menu_screen(call, response)
    if not digits and silent >= 2:
        return menu_screen(call, response)
    say(call, response, [Part("voice.no_input" if not digits else "voice.bad_area")])
    return area_screen(call, response, entry, silent)


async def after_answer(call: Call, request: Request, response: VoiceResponse) -> VoiceResponse:
    """5: the addresses by SMS; 9: the answer again; 0: the menu; silence twice: the menu."""
    entry = _entry(call, request)
    if entry is None:
        return menu_screen(call, response)
    area = _area(request) if entry.area else None
    if entry.area and area is None:
        return area_screen(call, response, entry)
    digits = call.value("Digits")
    if digits == "9":
        return await answer_screen(call, response, entry, area)
    if digits == "0":
        return menu_screen(call, response)
    spoken = await entry.handler(call.handler_call(), area)
    if digits == "5" and spoken.sms is not None and voice.is_mobile(call.phone):
        await _send_sms(call, entry, area, spoken)
        say(call, response, [Part("voice.sms_sent")])
        return menu_screen(call, response)
    silent = _silent(request)
    if not digits and silent >= 2:
        return menu_screen(call, response)
    say(call, response, [Part("voice.no_input" if not digits else "voice.not_understood")])
    return options_screen(call, response, entry, area, spoken.sms is not None, silent)


async def _send_sms(call: Call, entry: VoiceEntry, area: int | None, spoken: Spoken) -> None:
    """Through the outbox, once per call, entry and arrondissement (pressing 5 twice sends once)."""
    core = call.core
    assert call.phone is not None and spoken.sms is not None
    now = core.clock.now()
    person, _identity = await people.identify(core.store, Channel.SMS, call.phone, now)
    call_sid = call.value("CallSid") or "unknown"
    async with core.store.transaction() as db:
        queued = await outbox.enqueue(
            db,
            now,
            cause=f"voice-sms:{call_sid}:{entry.key}:{area}",
            channel=Channel.SMS,
            address=call.phone,
            text=spoken.sms,
            person_id=person.id,
        )
    if queued:
        log.info("voice: addresses queued by SMS for person %s", person.id)
    core.outbox.wake()


async def audio(request: Request) -> Response:
    """A recording of a prompt, for Twilio's ``<Play>``: only a configured language's known keys."""
    core: Core = request.app.state.core
    language = request.path_params["language"]
    key = request.path_params["key"]
    if language not in core.i18n.languages or not _KEY.match(key) or key not in voice.prompt_keys(core.i18n):
        return PlainTextResponse("Not found", status_code=404)
    path = voice.recording(core.settings, language, key)
    root = core.settings.voice_recordings_dir.resolve()
    if not path.resolve().is_relative_to(root) or not path.is_file():
        return PlainTextResponse("Not found", status_code=404)
    return FileResponse(path, media_type="audio/mpeg")


Step = Callable[[Call, Request, VoiceResponse], Awaitable[VoiceResponse]]


def _webhook(step: Step) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of one step: the signature checked, the call read, its TwiML answered."""

    async def endpoint(request: Request) -> Response:
        call = await _call(request)
        if isinstance(call, Response):
            return call
        return twiml(await step(call, request, VoiceResponse()))

    endpoint.__doc__ = step.__doc__
    return endpoint


def routes(core: Core) -> list[Route]:
    """The voice webhooks and the recordings, on the one Starlette app."""
    del core  # every endpoint reads it from the app's state
    return [
        Route(BASE, _webhook(incoming), methods=["POST"]),
        Route(f"{BASE}/language", _webhook(chosen_language), methods=["POST"]),
        Route(f"{BASE}/menu", _webhook(menu_choice), methods=["POST"]),
        Route(f"{BASE}/area", _webhook(area_choice), methods=["POST"]),
        Route(f"{BASE}/after", _webhook(after_answer), methods=["POST"]),
        Route(f"{BASE}/audio/{{language}}/{{key}}{voice.RECORDING_SUFFIX}", audio, methods=["GET"]),
    ]
