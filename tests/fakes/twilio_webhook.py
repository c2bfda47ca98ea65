"""Signed Twilio webhooks, as Twilio sends them, for the SMS channel's tests."""

from __future__ import annotations

import itertools
from xml.etree import ElementTree

import httpx
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
BOT_NUMBER = "+33639980999"
PUBLIC_URL = "https://voisins.example.org"

_sids = itertools.count(1)


def new_sid() -> str:
    return f"SM{next(_sids):032d}"


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)  # type: ignore[no-any-return]


def sms_params(sender: str, body: str, sid: str | None = None) -> dict[str, str]:
    return {
        "MessageSid": sid or new_sid(),
        "SmsSid": sid or "",
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": BOT_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "FromCountry": "FR",
    }


async def post_sms(
    client: httpx.AsyncClient,
    base_url: str,
    params: dict[str, str],
    *,
    signature: str | None = None,
    public_url: str = PUBLIC_URL,
) -> httpx.Response:
    """POST /twilio/sms signed for ``public_url`` (the address Twilio calls, not the server's own)."""
    sig = sign(f"{public_url}/twilio/sms", params) if signature is None else signature
    headers = {"X-Twilio-Signature": sig} if sig else {}
    return await client.post(f"{base_url}/twilio/sms", data=params, headers=headers)


WHATSAPP_NUMBER = "whatsapp:+33639980998"  # the bot's WhatsApp sender (TWILIO_WHATSAPP_FROM)


def whatsapp_params(sender: str, body: str, sid: str | None = None, **extra: str) -> dict[str, str]:
    """What Twilio posts for a WhatsApp message from ``sender`` (+33...): addresses are ``whatsapp:+33...``."""
    return {
        "MessageSid": sid or new_sid(),
        "SmsMessageSid": sid or "",
        "AccountSid": ACCOUNT_SID,
        "From": f"whatsapp:{sender}",
        "To": WHATSAPP_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ProfileName": "Alice",
        "WaId": sender.lstrip("+"),
        **extra,
    }


async def post_whatsapp(
    client: httpx.AsyncClient, base_url: str, params: dict[str, str], *, signature: str | None = None
) -> httpx.Response:
    """POST /twilio/whatsapp signed for PUBLIC_URL, as Twilio sends it."""
    sig = sign(f"{PUBLIC_URL}/twilio/whatsapp", params) if signature is None else signature
    headers = {"X-Twilio-Signature": sig} if sig else {}
    return await client.post(f"{base_url}/twilio/whatsapp", data=params, headers=headers)


def messages(twiml: str) -> list[str]:
    """The bodies of the ``<Message>`` elements of a TwiML answer."""
    root = ElementTree.fromstring(twiml)
    return [element.text or "" for element in root.iter("Message")]
