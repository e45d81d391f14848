"""The WhatsApp sender: Meta's WhatsApp Cloud API ("Send messages", "Template messages", "Error codes").

POST {api}/{phone_number_id}/messages with a Bearer token and JSON. Inside the 24-hour customer service window (the
customer wrote to the business in the last 24 hours) the rendered text goes as a text message; outside it only an
approved template may go: the sender's template, its single body parameter filled with the rendered text. The
answer names the message (messages[0].id, a "wamid."); an error carries a Graph error code that decides the class
(docs/channels-providers.md has the table).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from dispatch.lifecycle import Channel

from dispatch_worker.domain import OutgoingMessage, SendOutcome
from dispatch_worker.senders.http_client import HttpLimits, pooled_client

PROVIDER: Final = "whatsapp"
DEFAULT_API_URL: Final = "https://graph.facebook.com/v21.0"
PHONE: Final = re.compile(r"\+?[1-9][0-9]{6,14}")
MAX_TEXT: Final = 200
# a template parameter may hold no newline or tab and at most four spaces in a row
PARAMETER_BLANKS: Final = re.compile(r"[\n\t]+| {5,}")

# the provider asks to slow down: the message waits without spending a retry, and the sender's rate halves
THROTTLED: Final = {
    4: "application request limit reached",
    80007: "WhatsApp Business Account rate limit hit",
    130429: "throughput exceeded (Cloud API's messages per second)",
    131048: "spam rate limit hit",
    131056: "pair rate limit hit (too many messages to one number)",
    613: "rate limit of this call hit",
}
# no retry can change these
PERMANENT: Final = {
    0: "authentication exception",
    3: "capability or permissions",
    10: "permission denied",
    100: "invalid parameter",
    190: "access token expired or invalid (the sender's credentials)",
    200: "permission denied",
    368: "temporarily blocked for policy violations",
    131005: "access denied",
    131008: "required parameter missing",
    131009: "parameter value not valid",
    131021: "recipient is the sender",
    131026: "message undeliverable (not a WhatsApp user, or cannot receive this message)",
    131031: "business account locked",
    131042: "business eligibility payment issue",
    131045: "phone number not registered",
    131047: "re-engagement message: more than 24 hours since the customer last replied",
    131049: "not delivered to keep a healthy ecosystem (marketing per-user limit)",
    131050: "the customer stopped marketing messages",
    131051: "unsupported message type",
    132000: "template parameter count mismatch",
    132001: "template does not exist in this language",
    132005: "template hydrated text too long",
    132007: "template format character policy violated",
    132012: "template parameter format mismatch",
    132015: "template paused",
    132016: "template disabled",
    133010: "phone number not registered",
}
# the provider's trouble: a later attempt may work
TRANSIENT: Final = {
    1: "API unknown",
    2: "API service temporarily unavailable",
    131000: "something went wrong",
    131016: "service unavailable",
    133004: "server temporarily unavailable",
}


@dataclass(frozen=True, slots=True)
class WhatsAppConfig:
    """The business phone number, its token, and the template that goes outside the 24-hour window."""

    phone_number_id: str
    access_token: str = field(repr=False)
    api_url: str = DEFAULT_API_URL  # https://graph.facebook.com/v{N}
    template: str | None = None
    template_language: str = "en"
    limits: HttpLimits = field(default_factory=HttpLimits)


def classify_error(status_code: int, error: dict[str, Any]) -> SendOutcome:
    """A Graph API error object → the sender's class, by its code first, by the HTTP status when the code is new."""
    code = error.get("code")
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    title = error.get("title") or error.get("message") or ""
    text = f"whatsapp {code}: {str(details or title)[:MAX_TEXT]}"
    if code in THROTTLED:
        return SendOutcome.throttled(text)
    if code in PERMANENT:
        return SendOutcome.permanent(text)
    if code in TRANSIENT or status_code >= 500:
        return SendOutcome.transient(text)
    if status_code == 429:
        return SendOutcome.throttled(text)
    return SendOutcome.permanent(text) if 400 <= status_code < 500 else SendOutcome.transient(text)


def classify(status_code: int, body: bytes) -> SendOutcome:
    """The HTTP answer → the sender's class."""
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    if 200 <= status_code < 300:
        messages = data.get("messages") or []
        if messages and isinstance(messages[0], dict) and messages[0].get("id"):
            return SendOutcome.accepted(str(messages[0]["id"]))
        return SendOutcome.transient(f"whatsapp {status_code}: answer names no message id")
    error = data.get("error")
    if isinstance(error, dict):
        return classify_error(status_code, error)
    text = body.decode(errors="replace").strip()[:MAX_TEXT] or "(empty answer)"
    if status_code == 429:
        return SendOutcome.throttled(f"whatsapp 429: {text}")
    if status_code >= 500:
        return SendOutcome.transient(f"whatsapp {status_code}: {text}")
    return SendOutcome.permanent(f"whatsapp {status_code}: {text}")


class WhatsAppSender:
    """Sends WhatsApp messages through the Cloud API over one pooled client."""

    provider = PROVIDER

    def __init__(self, config: WhatsAppConfig, transport: httpx.AsyncBaseTransport | None = None) -> None:
        """Open the pool; `transport` replaces the network in tests."""
        self.config = config
        self._url = f"{config.api_url.rstrip('/')}/{config.phone_number_id}/messages"
        self._client = pooled_client(config.limits, transport)

    def payload(self, message: OutgoingMessage) -> dict[str, Any] | None:
        """The request body: text inside the customer service window, the template outside; None: nothing may go."""
        base: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": message.phone}
        if message.service_window_open:
            return {**base, "type": "text", "text": {"preview_url": False, "body": message.text}}
        if not self.config.template:
            return None
        parameter = PARAMETER_BLANKS.sub(" ", message.text).strip()
        return {
            **base,
            "type": "template",
            "template": {
                "name": self.config.template,
                "language": {"code": self.config.template_language},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": parameter}]}],
            },
        }

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        """POST the message; a timeout or unreachable API is transient."""
        if message.channel is not Channel.WHATSAPP:
            return SendOutcome.permanent(f"whatsapp sends WhatsApp only: channel {message.channel} is unsupported")
        if not PHONE.fullmatch(message.phone):
            return SendOutcome.permanent("whatsapp: invalid number (E.164 expected)")
        payload = self.payload(message)
        if payload is None:
            return SendOutcome.permanent(
                "whatsapp: outside the 24-hour customer service window and the sender names no template"
            )
        headers = {"Authorization": f"Bearer {self.config.access_token}"}
        try:
            response = await self._client.post(self._url, json=payload, headers=headers)
        except httpx.TimeoutException as exc:
            return SendOutcome.transient(f"whatsapp timeout: {type(exc).__name__}")
        except httpx.TransportError as exc:
            return SendOutcome.transient(f"whatsapp unreachable: {type(exc).__name__}")
        return classify(response.status_code, response.content)

    async def close(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()
