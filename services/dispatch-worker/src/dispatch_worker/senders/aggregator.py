"""The HTTP aggregator sender, shaped on Africa's Talking's bulk SMS API ("SMS > Sending").

One form POST per message to ``/version1/messaging`` (fields username, to, message, from, bulkSMSMode, enqueue;
header apiKey; Accept: application/json). The answer lists each recipient with its statusCode, status, messageId and
cost ("KES 0.8000"); the per-recipient statusCode decides the class (docs/channels-providers.md has the table).
The API key travels in a header, never in the URL or a log line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import httpx
from dispatch.lifecycle import Channel

from dispatch_worker.domain import OutgoingMessage, SendOutcome
from dispatch_worker.senders.http_client import HttpLimits, pooled_client

PROVIDER: Final = "aggregator"
DEFAULT_URL: Final = "https://api.africastalking.com/version1/messaging"
E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")
COST: Final = re.compile(r"([A-Z]{3})\s+([0-9]+(?:\.[0-9]+)?)")
MAX_TEXT: Final = 200  # of an unexpected answer, kept in last_error

ACCEPTED: Final = {100: "Processed", 101: "Sent", 102: "Queued"}
PERMANENT: Final = {
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    409: "DoNotDisturbRejection",
    502: "RejectedByGateway",
}
TRANSIENT: Final = {500: "InternalServerError", 501: "GatewayError"}


@dataclass(frozen=True, slots=True)
class AggregatorConfig:
    """The account at the aggregator and what each request asks for."""

    username: str
    api_key: str = field(repr=False)
    url: str = DEFAULT_URL
    sender_id: str | None = None  # `from`: a registered alphanumeric sender id or short code
    enqueue: bool = True  # `enqueue=1`: the aggregator queues bulk traffic instead of refusing it
    limits: HttpLimits = field(default_factory=HttpLimits)


def parse_cost(text: object) -> tuple[Decimal | None, str | None]:
    """ "KES 0.8000" → (Decimal("0.8000"), "KES"); anything else (absent, "0") → (None, None)."""
    if not isinstance(text, str) or not (match := COST.fullmatch(text.strip())):
        return None, None
    try:
        return Decimal(match.group(2)), match.group(1)
    except InvalidOperation:
        return None, None


def classify_recipient(recipient: dict[str, Any]) -> SendOutcome:
    """One SMSMessageData.Recipients[] entry → the sender's class."""
    code = recipient.get("statusCode")
    status = recipient.get("status") or "?"
    if code in ACCEPTED:
        message_id = recipient.get("messageId")
        cost, currency = parse_cost(recipient.get("cost"))
        return SendOutcome.accepted(str(message_id) if message_id else None, cost, currency)
    error = f"aggregator {code} {status}"
    if code in PERMANENT:
        return SendOutcome.permanent(error)
    if code in TRANSIENT:
        return SendOutcome.transient(error)
    # an undocumented code: a later attempt may meet a known one; retries are bounded
    return SendOutcome.transient(f"aggregator: undocumented statusCode {code} {status}")


def classify(status_code: int, body: bytes) -> SendOutcome:
    """The HTTP answer → the sender's class: the recipient's statusCode on success, the HTTP status otherwise."""
    text = body.decode(errors="replace").strip()[:MAX_TEXT]
    if status_code == 429:
        return SendOutcome.throttled(f"aggregator 429: {text or 'too many requests'}")
    if status_code >= 500:
        return SendOutcome.transient(f"aggregator {status_code}: {text or '(empty answer)'}")
    if status_code in (401, 403):
        return SendOutcome.permanent(f"aggregator {status_code}: the sender's username or API key was refused")
    if status_code >= 400:
        return SendOutcome.permanent(f"aggregator {status_code}: {text or '(empty answer)'}")
    try:
        data = json.loads(body)
        recipients = data["SMSMessageData"]["Recipients"]
        message = data["SMSMessageData"].get("Message", "")
    except (ValueError, KeyError, TypeError):
        return SendOutcome.transient(f"aggregator {status_code}: unreadable answer: {text}")
    if not recipients:
        # a refusal of the whole request (e.g. "InvalidSenderId") answers 2xx with no recipient
        return SendOutcome.permanent(f"aggregator: no recipient accepted: {str(message)[:MAX_TEXT]}")
    return classify_recipient(recipients[0])


class AggregatorSender:
    """Sends SMS through the aggregator's messaging endpoint over one pooled client."""

    provider = PROVIDER

    def __init__(self, config: AggregatorConfig, transport: httpx.AsyncBaseTransport | None = None) -> None:
        """Open the pool; `transport` replaces the network in tests."""
        self.config = config
        self._client = pooled_client(config.limits, transport)

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        """POST the message form; a timeout or unreachable aggregator is transient."""
        if message.channel is not Channel.SMS:
            return SendOutcome.permanent(f"aggregator sends SMS only: channel {message.channel} is unsupported")
        if not E164.fullmatch(message.phone):
            return SendOutcome.permanent("aggregator: invalid number (E.164 expected)")
        form = {
            "username": self.config.username,
            "to": message.phone,
            "message": message.text,
            "bulkSMSMode": "1",  # the sending account pays (premium content is not sent from campaigns)
        }
        if self.config.sender_id:
            form["from"] = self.config.sender_id
        if self.config.enqueue:
            form["enqueue"] = "1"
        headers = {"apiKey": self.config.api_key, "Accept": "application/json"}
        try:
            response = await self._client.post(self.config.url, data=form, headers=headers)
        except httpx.TimeoutException as exc:
            return SendOutcome.transient(f"aggregator timeout: {type(exc).__name__}")
        except httpx.TransportError as exc:
            return SendOutcome.transient(f"aggregator unreachable: {type(exc).__name__}")
        return classify(response.status_code, response.content)

    async def close(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()
