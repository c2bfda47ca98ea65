"""WhatsApp through Twilio: the signed inbound webhook ``POST /twilio/whatsapp`` and the outbox's sender.

WhatsApp numbers are phone numbers WhatsApp verified, so an identity's address is the E.164
number, as for SMS (``whatsapp:`` is only Twilio's way of naming the channel), and a number
registered for SMS is the same person (:func:`bot.people.identify`). Answers travel in the TwiML
answer, every character as written, choices as numbered lines.

The 24-hour rule is the sender's: within 24 hours of the person's last message anything may be
sent; outside them only a template Meta approved, by its Content SID (``WHATSAPP_TEMPLATES``, one
per kind of message a feature names with ``Router.message_kind``) with the text as its variable.
A message with no template raises :class:`~bot.outbox.Reroute`: the outbox sends it by the
person's next channel, or keeps it waiting for them and tells staff.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import aiohttp
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from twilio.base.exceptions import TwilioRestException

from bot.channels.sms import REQUEST_TIMEOUT, SmsSender, answer, signed_form
from bot.clock import Clock
from bot.config import Settings
from bot.core import Core
from bot.dispatch import Router
from bot.messages import Channel, Choice, Location, Reply
from bot.outbox import (
    NOT_ON_WHATSAPP_CODES,
    OPTED_OUT_CODE,
    OUTSIDE_WINDOW_CODE,
    Reroute,
    Retry,
    Row,
    Sent,
    Undeliverable,
)
from bot.people import normalise_phone
from bot.sms_text import MAX_BODY, numbered
from bot.store import Store

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024
PREFIX = "whatsapp:"
WINDOW = timedelta(hours=24)  # Meta's customer service window, from the person's last message
# A template's variable: no new line, no tab, no more than four spaces in a row, at most 1024 characters.
VARIABLE_LENGTH = 1000
_SPACES = re.compile(r"[ \t]{4,}")

# Twilio's WhatsApp errors (the Messages API's codes) beside the outbox's own (63016, 63003, 63024, 21610).
RATE_LIMITED = ("63018",)  # over the sender's throughput: wait and try again
META_HELD = ("63049", "63032")  # Meta chose not to deliver it (marketing limits, a WhatsApp restriction)


def address_of(sender: str) -> str | None:
    """``whatsapp:+33612345678`` -> ``+33612345678``; None when it is not a WhatsApp phone address."""
    if not sender.startswith(PREFIX):
        return None
    return normalise_phone(sender[len(PREFIX) :])


async def inbound_whatsapp(request: Request) -> Response:
    """Twilio's inbound WhatsApp webhook, signed and answered like SMS; a shared position is a location."""
    core: Core = request.app.state.core
    form = await signed_form(core, request)
    if isinstance(form, Response):
        return form
    sender = form.get("From")
    address = address_of(sender) if isinstance(sender, str) else None
    if address is None:
        return PlainTextResponse("From is not a WhatsApp number", status_code=400)
    location = None
    latitude, longitude = form.get("Latitude"), form.get("Longitude")
    if isinstance(latitude, str) and isinstance(longitude, str):
        try:
            location = Location(float(latitude), float(longitude))
        except ValueError:
            location = None
    response = await answer(core, form, Channel.WHATSAPP, address, numbered, location)
    if response.status_code == 200:
        await core.outbox.reopen(Channel.WHATSAPP, address)  # they wrote: the 24 hours are open again
    return response


def message_kinds(routers: Iterable[Router]) -> list[tuple[str, re.Pattern[str]]]:
    """Every feature's kinds of message sent unasked, each with the causes it covers."""
    return [kind for router in routers for kind in router.message_kinds]


def template_text(text: str) -> str:
    """A text as a template variable accepts it: one line, short enough."""
    flat = " · ".join(line.strip() for line in text.splitlines() if line.strip())
    flat = _SPACES.sub("   ", flat)
    return flat if len(flat) <= VARIABLE_LENGTH else flat[: VARIABLE_LENGTH - 1].rstrip() + "…"


class WhatsAppSender(SmsSender):
    """Sends outbox rows on WhatsApp: free text within the 24 hours, else the kind's template."""

    channel = Channel.WHATSAPP

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Clock,
        kinds: Sequence[tuple[str, re.Pattern[str]]],
        timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        super().__init__(settings, timeout)
        self.max_per_second = settings.whatsapp_max_per_second
        self.store = store
        self.clock = clock
        self.kinds = list(kinds)

    def kind(self, cause: str) -> str | None:
        return next((name for name, causes in self.kinds if causes.search(cause)), None)

    def template(self, kind: str | None, language: str | None) -> str | None:
        """The Content SID for this kind in the person's language, else in the default language, else any."""
        found = self.settings.whatsapp_templates.get(kind or "")
        if found is None or isinstance(found, str):
            return found
        for wanted in (language, self.settings.default_language):
            if wanted and wanted in found:
                return found[wanted]
        return next(iter(found.values()), None)

    async def _window(self, row: Row) -> tuple[bool, str | None]:
        """Whether the 24 hours after the person's last WhatsApp message are still open, and their language."""
        found = await self.store.fetchone(
            "SELECT i.last_inbound_at, p.language FROM identities i JOIN persons p ON p.id = i.person_id"
            " WHERE i.channel = ? AND i.address = ?",
            (Channel.WHATSAPP.value, row.address),
        )
        if found is None or found[0] is None:
            return False, found[1] if found is not None else None
        return self.clock.now() - datetime.fromisoformat(found[0]) < WINDOW, found[1]

    async def send(self, row: Row) -> Sent:
        params: dict[str, str] = {"to": PREFIX + row.address, "from_": self.settings.twilio_whatsapp_from or ""}
        if self.settings.public_url:
            params["status_callback"] = f"{self.settings.public_url}/twilio/status"
        text = numbered(Reply(row.body, row.choices))
        open_window, language = await self._window(row)
        if open_window:
            params["body"] = text[:MAX_BODY]
        else:
            kind = self.kind(row.cause)
            sid = self.template(kind, language)
            if sid is None:
                raise Reroute(f"whatsapp: outside the 24-hour window, no template for {kind or 'this message'}")
            params["content_sid"] = sid
            params["content_variables"] = json.dumps({"1": template_text(text)}, ensure_ascii=False)
        try:
            message = await self.client().messages.create_async(**params)
        except TwilioRestException as exc:
            raise await self._failure(row, exc) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Retry(f"twilio {type(exc).__name__}") from None
        return Sent(message.sid)

    async def _failure(self, row: Row, exc: TwilioRestException) -> Exception:
        """Twilio's refusal as the outbox's verdict, with a reason staff can read (never the text)."""
        code = str(exc.code)
        if code == OUTSIDE_WINDOW_CODE:
            await self.store.execute(
                "UPDATE identities SET last_inbound_at = NULL WHERE channel = ? AND address = ?",
                (Channel.WHATSAPP.value, row.address),
            )
            return Retry("whatsapp 63016: outside the 24-hour window, sent again as a template", after=1)
        if code in NOT_ON_WHATSAPP_CODES:
            return Undeliverable(f"whatsapp {code}: no WhatsApp on this number", mark="unreachable")
        if code == OPTED_OUT_CODE:
            return Undeliverable("whatsapp 21610: opted out", mark="opted_out")
        if code in RATE_LIMITED or exc.status == 429 or exc.status >= 500:
            return Retry(f"whatsapp {exc.status} {code}")
        if code in META_HELD:
            return Undeliverable(f"whatsapp {code}: Meta did not deliver it")
        return Undeliverable(f"whatsapp {exc.status} {code}")

    async def edit(self, address: str, message_ref: str, text: str, choices: Sequence[Choice] = ()) -> None:
        """Twilio cannot change a WhatsApp message once sent."""
        raise Undeliverable("a WhatsApp message cannot be edited")
