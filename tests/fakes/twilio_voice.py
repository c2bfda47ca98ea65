"""Signed Twilio Voice webhooks, as Twilio posts them, and what a test reads in the TwiML answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx

from tests.fakes.twilio_webhook import ACCOUNT_SID, BOT_NUMBER, PUBLIC_URL, sign


def call_params(caller: str, call_sid: str = "CA" + "0" * 32, **extra: str) -> dict[str, str]:
    return {
        "CallSid": call_sid,
        "AccountSid": ACCOUNT_SID,
        "From": caller,
        "To": BOT_NUMBER,
        "CallStatus": "in-progress",
        "Direction": "inbound",
        **extra,
    }


async def post_voice(
    client: httpx.AsyncClient, base_url: str, url: str, params: dict[str, str], signature: str | None = None
) -> httpx.Response:
    """POST to ``url`` (the public address in an action, or a path) signed as Twilio signs it."""
    path = url[len(PUBLIC_URL) :] if url.startswith(PUBLIC_URL) else url
    sig = sign(f"{PUBLIC_URL}{path}", params) if signature is None else signature
    headers = {"X-Twilio-Signature": sig} if sig else {}
    return await client.post(f"{base_url}{path}", data=params, headers=headers)


@dataclass
class Heard:
    """One TwiML answer: what is said and played, the question asked, where silence leads."""

    says: list[str] = field(default_factory=list)
    plays: list[str] = field(default_factory=list)
    gather: dict[str, str] | None = None
    redirect: str | None = None
    hangup: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.says)

    @classmethod
    def of(cls, twiml: str) -> Heard:
        heard = cls()
        root = ElementTree.fromstring(twiml)
        for element in root.iter():
            if element.tag == "Say":
                heard.says.append("".join(element.itertext()).strip())
            elif element.tag == "Play":
                heard.plays.append((element.text or "").strip())
            elif element.tag == "Gather":
                heard.gather = dict(element.attrib)
            elif element.tag == "Redirect":
                heard.redirect = (element.text or "").strip()
            elif element.tag == "Hangup":
                heard.hangup = True
        return heard


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
