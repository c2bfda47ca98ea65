"""SMS through Twilio: the signed inbound webhook ``POST /twilio/sms``, answered in TwiML.

Replies to an SMS travel in the TwiML answer itself (the dispatcher has already made them one
GSM-7 message of at most two segments); anything else goes through the outbox.
"""

from __future__ import annotations

import logging

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.app import Core
from bot.messages import Channel, Inbound
from bot.people import normalise_phone
from bot.sms_text import MAX_BODY, render_reply

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024  # a Twilio webhook is a few kilobytes


def public_url(core: Core, request: Request) -> str:
    """The address Twilio signed: PUBLIC_URL and the path, never what a proxy shows the app."""
    base = core.settings.public_url or ""
    query = request.url.query
    return f"{base}{request.url.path}" + (f"?{query}" if query else "")


async def signed_form(core: Core, request: Request) -> FormData | Response:
    """The request's form when Twilio signed it; otherwise the error response (nothing is read further)."""
    token = core.settings.twilio_auth_token
    if token is None:
        return PlainTextResponse("SMS is not configured", status_code=404)
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_REQUEST_BYTES):
        return PlainTextResponse("Request too large", status_code=413)
    signature = request.headers.get("x-twilio-signature")
    if not signature:
        return PlainTextResponse("Missing signature", status_code=403)
    try:
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
    sid = form.get("MessageSid")
    body = form.get("Body", "")
    if not isinstance(sender, str) or not isinstance(sid, str) or not sid or not isinstance(body, str):
        return PlainTextResponse("From and MessageSid are required", status_code=400)
    address = normalise_phone(sender)
    if address is None:
        return PlainTextResponse("From is not a phone number", status_code=400)
    if await core.seen(Channel.SMS, sid):
        log.info("repeated MessageSid: answered already")
        return twiml([])
    latitude, longitude = form.get("Latitude"), form.get("Longitude")
    del latitude, longitude  # Twilio sends these only for MMS locations, which French networks do not carry
    replies = await core.dispatcher.handle(Inbound(channel=Channel.SMS, address=address, text=body))
    return twiml([render_reply(reply) for reply in replies])
