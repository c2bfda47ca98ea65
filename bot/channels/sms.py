"""SMS through Twilio: the signed inbound webhook ``POST /twilio/sms``, answered in TwiML.

Replies to an SMS travel in the TwiML answer itself (the dispatcher has already made them one
GSM-7 message of at most two segments); anything else goes through the outbox.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.http import unavailable_text
from bot.config import Settings
from bot.core import Core
from bot.messages import Channel, Choice, Inbound, Location, Reply
from bot.outbox import Retry, Row, Sent, Undeliverable
from bot.people import normalise_phone
from bot.sms_text import MAX_BODY, render_reply, segments
from bot.store import unwritable_reason

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024  # a Twilio webhook is a few kilobytes
_handling: set[str] = set()  # MessageSids being handled now, in this process


def public_url(core: Core, request: Request) -> str:
    """The address Twilio signed: PUBLIC_URL and the path, never what a proxy shows the app."""
    base = core.settings.public_url or ""
    query = request.url.query
    return f"{base}{request.url.path}" + (f"?{query}" if query else "")


async def signed_form(core: Core, request: Request) -> FormData | Response:
    """The request's form when Twilio signed it; otherwise the error response.

    No signature header: refused before the body is read. Otherwise the raw body is read, bounded
    in size and time by the app's :class:`~bot.channels.http.BodyLimit` (``MAX_REQUEST_BYTES`` on
    these routes), parsed and checked against the signature before anything uses it.
    """
    token = core.settings.twilio_auth_token
    if token is None:
        return PlainTextResponse("SMS is not configured", status_code=404)
    signature = request.headers.get("x-twilio-signature")
    if not signature:
        return PlainTextResponse("Missing signature", status_code=403)
    try:
        await request.body()  # over the limit or too slow: BodyLimit answers 413 or 408 instead
        form = await request.form(max_files=0, max_fields=200)
    except Exception:
        return PlainTextResponse("Malformed form", status_code=400)
    validator = RequestValidator(token.get_secret_value())
    if not validator.validate(public_url(core, request), form, signature):
        log.warning("rejected an SMS webhook with a wrong signature")
        return PlainTextResponse("Invalid signature", status_code=403)
    return form


def twiml(texts: list[str]) -> Response:
    response = MessagingResponse()
    for text in texts:
        response.message(text[:MAX_BODY])
    return Response(str(response), media_type="application/xml")


async def inbound_sms(request: Request) -> Response:
    """Twilio's inbound SMS webhook: one TwiML ``<Message>`` per reply, each MessageSid answered once."""
    core: Core = request.app.state.core
    form = await signed_form(core, request)
    if isinstance(form, Response):
        return form
    sender = form.get("From")
    if not isinstance(sender, str):
        return PlainTextResponse("From and MessageSid are required", status_code=400)
    address = normalise_phone(sender)
    if address is None:
        return PlainTextResponse("From is not a phone number", status_code=400)
    # Twilio sends Latitude and Longitude only for MMS locations, which French networks do not carry.
    return await answer(core, form, Channel.SMS, address, render_reply)


async def answer(
    core: Core,
    form: FormData,
    channel: Channel,
    address: str,
    render: Callable[[Reply], str],
    location: Location | None = None,
) -> Response:
    """Handle one signed inbound message (SMS or WhatsApp) once per MessageSid and answer it in TwiML."""
    sid = form.get("MessageSid")
    body = form.get("Body", "")
    if not isinstance(sid, str) or not sid or not isinstance(body, str):
        return PlainTextResponse("From and MessageSid are required", status_code=400)
    if sid in _handling:
        # Twilio gave up waiting and sent it again: the first delivery is still being handled.
        return PlainTextResponse("Being handled", status_code=503, headers={"Retry-After": "1"})
    if await core.answered(channel, sid):
        log.info("repeated MessageSid: answered already")
        return twiml([])
    inbound = Inbound(channel=channel, address=address, text=body, location=location)
    _handling.add(sid)
    try:
        try:
            replies = await core.dispatcher.handle(inbound)
        except sqlite3.Error as exc:
            reason = unwritable_reason(exc)
            if reason is None:
                raise
            # A full or read-only database: say so in a few words; the MessageSid stays unseen, so
            # Twilio's retry or the same message sent again is handled once the disk is back.
            log.error("a %s message could not be handled: the database is %s", channel.value, reason)
            return twiml([await unavailable_text(core, inbound)])
        # Only now: a failure above answers 500 and Twilio's retry is handled, not dropped as seen.
        try:
            await core.seen(channel, sid)
        except sqlite3.Error as exc:
            reason = unwritable_reason(exc)
            if reason is None:
                raise
            log.error("a %s message was answered but not recorded as seen: the database is %s", channel.value, reason)
    finally:
        _handling.discard(sid)
    return twiml([render(reply) for reply in replies])


async def status_callback(request: Request) -> Response:
    """``POST /twilio/status``: Twilio's delivery reports update the outbox row they are about."""
    core: Core = request.app.state.core
    form = await signed_form(core, request)
    if isinstance(form, Response):
        return form
    sid, status = form.get("MessageSid"), form.get("MessageStatus")
    if not isinstance(sid, str) or not sid or not isinstance(status, str) or not status:
        return PlainTextResponse("MessageSid and MessageStatus are required", status_code=400)
    error_code = form.get("ErrorCode")
    try:
        await core.outbox.delivery_status(
            sid, status, error_code if isinstance(error_code, str) and error_code else None
        )
    except sqlite3.Error as exc:
        reason = unwritable_reason(exc)
        if reason is None:
            raise
        log.error("a delivery report was not recorded: the database is %s", reason)
        return PlainTextResponse("Database unavailable", status_code=503, headers={"Retry-After": "60"})
    return Response(status_code=204)


# Twilio's HTTP client logs every request's parameters (the number and the text) at INFO.
_quiet_http_log = logging.getLogger("bot.channels.sms.twilio_http")
_quiet_http_log.setLevel(logging.WARNING)


REQUEST_TIMEOUT = 15.0  # seconds; a request still unanswered is retried later


class _TimedHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Twilio's async client with its timeout applied.

    twilio 9.13 keeps the ``timeout`` given to ``AsyncTwilioHttpClient`` but passes aiohttp the
    request's own (None), which means no limit at all: a Twilio that accepts the connection and
    never answers would hold an outbox worker for ever.
    """

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the library's signature)
        allow_redirects: bool = False,
    ) -> Any:
        limit = timeout if timeout is not None else self.timeout
        return await super().request(method, url, params, data, headers, auth, limit, allow_redirects)


class SmsSender:
    """Sends outbox rows through Twilio's async client, GSM-7 rendered like every SMS answer."""

    channel = Channel.SMS
    per_address_interval = 0.0  # Twilio queues per number itself

    def __init__(self, settings: Settings, timeout: float = REQUEST_TIMEOUT) -> None:
        assert settings.twilio_auth_token is not None and settings.twilio_account_sid is not None
        self.settings = settings
        self.max_per_second = settings.sms_max_per_second
        self.timeout = timeout
        self._client: Client | None = None

    def client(self) -> Client:
        """Made on first use, inside the event loop (aiohttp wants its session there)."""
        if self._client is None:
            token = self.settings.twilio_auth_token
            assert token is not None
            http = _TimedHttpClient(timeout=self.timeout, logger=_quiet_http_log)
            client = Client(self.settings.twilio_account_sid, token.get_secret_value(), http_client=http)
            client.api.base_url = self.settings.twilio_api_url
            self._client = client
        return self._client

    async def send(self, row: Row) -> Sent:
        body = render_reply(Reply(row.body, row.choices))[:MAX_BODY]
        params: dict[str, str] = {"to": row.address, "body": body}
        if self.settings.twilio_messaging_service_sid:
            params["messaging_service_sid"] = self.settings.twilio_messaging_service_sid
        elif self.settings.twilio_from_number:
            params["from_"] = self.settings.twilio_from_number
        if self.settings.public_url:
            params["status_callback"] = f"{self.settings.public_url}/twilio/status"
        try:
            message = await self.client().messages.create_async(**params)
        except TwilioRestException as exc:
            if str(exc.code) == "21610":
                raise Undeliverable("twilio 21610: opted out", mark="opted_out") from None
            if exc.status == 429 or exc.status >= 500:
                raise Retry(f"twilio {exc.status}") from None
            raise Undeliverable(f"twilio {exc.status} {exc.code}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Retry(f"twilio {type(exc).__name__}") from None
        return Sent(message.sid, segments(body).count)

    async def edit(self, address: str, message_ref: str, text: str, choices: Sequence[Choice] = ()) -> None:
        """An SMS on the person's phone cannot be changed: a new text would be a second message."""
        raise Undeliverable("an SMS cannot be edited")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.http_client.close()
            self._client = None
