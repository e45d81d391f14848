"""The Kannel sender: smsbox's HTTP sendsms interface (the POST form, X-Kannel headers), over one pooled httpx client.

Kannel answers a sendsms request once bearerbox has stored the message (Kannel user guide, "SMS Push reply codes"):
202 "0: Accepted for delivery" or "3: Queued for later delivery", a 4xx when the request or Kannel's configuration
means the message cannot be delivered in any circumstances, 503 "Temporal failure, try again later." Credentials
travel in headers, never in the URL, so no request log (httpx logs URLs) shows them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

import httpx
from dispatch.lifecycle import Channel

from dispatch_worker.domain import OutgoingMessage, SendOutcome

PROVIDER: Final = "kannel"
# a space would make smsbox send to several numbers (multi-send); only one E.164-like number goes out
PHONE: Final = re.compile(r"\+?[0-9]{3,20}")
ACCEPTED_BODIES: Final = ("0:", "3:")  # accepted; queued in bearerbox until an SMSC link takes it
MAX_BODY: Final = 200  # of Kannel's answer, kept in last_error


@dataclass(frozen=True, slots=True)
class KannelConfig:
    """Where smsbox listens, the sendsms user, and what each request asks for."""

    url: str
    username: str
    password: str = field(repr=False)
    sender_id: str | None = None  # X-Kannel-From; unset: smsbox's global-sender or the user's faked-sender
    smsc: str | None = None  # X-Kannel-SMSC: route through this smsc-id
    dlr_mask: int | None = None  # X-Kannel-DLR-Mask, sent only when set
    dlr_url: str | None = None  # X-Kannel-DLR-Url, sent only when set; "{message_id}" becomes the message's id
    connect_timeout_s: float = 2.0
    timeout_s: float = 10.0
    max_connections: int = 32


def classify(status_code: int, body: str) -> SendOutcome:
    """Map Kannel's documented sendsms answers to the sender classes (docs/dispatch.md has the table)."""
    text = body.strip()[:MAX_BODY]
    if status_code == 202 and text.startswith(ACCEPTED_BODIES):
        # Kannel's sendsms names no message id: receipts are matched by the message id in the dlr-url instead
        return SendOutcome.accepted()
    error = f"kannel {status_code}: {text or '(empty answer)'}"
    if status_code == 503:
        # bearerbox could not take the message now (its queue is full, or it is going down): slow down
        return SendOutcome.throttled(error)
    if 400 <= status_code < 500:
        # the guide: "the message cannot be in any circumstances delivered" (bad number, denied, unauthorized)
        return SendOutcome.permanent(error)
    return SendOutcome.transient(error)


class KannelSender:
    """Sends SMS through Kannel's smsbox; one pooled HTTP client for every send."""

    provider = PROVIDER

    def __init__(self, config: KannelConfig, transport: httpx.AsyncBaseTransport | None = None) -> None:
        """Open the pool; `transport` replaces the network in tests of the answer mapping."""
        self.config = config
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(config.timeout_s, connect=config.connect_timeout_s),
            limits=httpx.Limits(
                max_connections=config.max_connections, max_keepalive_connections=config.max_connections
            ),
            transport=transport,
            follow_redirects=False,
        )

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        """POST the text to sendsms and classify Kannel's answer; a transport error or timeout is transient."""
        if message.channel is not Channel.SMS:
            return SendOutcome.permanent(f"kannel sends SMS only: channel {message.channel} is unsupported")
        if not PHONE.fullmatch(message.phone):
            return SendOutcome.permanent("kannel: invalid number (one number of 3-20 digits, an optional +)")
        try:
            response = await self._client.post(
                self.config.url, content=message.text.encode(), headers=self._headers(message)
            )
        except httpx.TimeoutException as exc:
            # smsbox may have stored it: the retry can duplicate, as any provider timeout can
            return SendOutcome.transient(f"kannel timeout: {type(exc).__name__}")
        except httpx.TransportError as exc:
            return SendOutcome.transient(f"kannel unreachable: {type(exc).__name__}: {exc}")
        return classify(response.status_code, response.text)

    def _headers(self, message: OutgoingMessage) -> dict[str, str]:
        config = self.config
        headers = {
            "Content-Type": "text/plain; charset=utf-8",
            "X-Kannel-Username": config.username,
            "X-Kannel-Password": config.password,
            "X-Kannel-To": message.phone,
            # 7-bit unless a character needs UCS-2, as template-svc measured (and counted the segments)
            "X-Kannel-Coding": "2" if message.ucs2 else "0",
        }
        if config.sender_id:
            headers["X-Kannel-From"] = config.sender_id
        if config.smsc:
            headers["X-Kannel-SMSC"] = config.smsc
        if config.dlr_mask is not None:
            headers["X-Kannel-DLR-Mask"] = str(config.dlr_mask)
        if config.dlr_url:
            headers["X-Kannel-DLR-Url"] = config.dlr_url.replace("{message_id}", str(message.id))
        return headers

    async def close(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()
