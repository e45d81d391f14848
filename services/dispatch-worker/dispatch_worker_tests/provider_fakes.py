"""Local stand-ins for the HTTP providers, answering exactly as their published documents describe.

- Africa's Talking, "SMS > Sending": POST /version1/messaging, form fields username, to, message (from,
  bulkSMSMode, enqueue optional), header apiKey; 201 with SMSMessageData.Recipients[] (statusCode, number, status,
  cost "KES 0.8000", messageId); a wrong key answers 401 with a plain text body.
- WhatsApp Cloud API, "Send messages" and "Error codes": POST /v{N}/{phone_number_id}/messages, Bearer token, JSON
  with messaging_product "whatsapp", to, type text|template; 200 with contacts[] and messages[0].id ("wamid.");
  an error answers {"error": {message, type, code, error_data {messaging_product, details}, fbtrace_id}}.

Each records what it received; a script says how it answers a number. Served in-process through an ASGI transport,
or on a real loopback port with `serving()` (uvicorn in a thread) when the adapter's own network path is tested.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

AT_STATUS = {
    100: "Processed",
    101: "Success",
    102: "Queued",
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    409: "DoNotDisturbRejection",
    500: "InternalServerError",
    501: "GatewayError",
    502: "RejectedByGateway",
}


@dataclass
class FakeAfricasTalking:
    """The messaging endpoint: per number a scripted statusCode (default 101), or a scripted HTTP status."""

    username: str = "sandbox"
    api_key: str = "at-test-key"
    status_codes: dict[str, int] = field(default_factory=dict)  # number → Recipients[].statusCode
    http_status: dict[str, int] = field(default_factory=dict)  # number → a bare HTTP answer (429, 500)
    requests: list[dict[str, str]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> Starlette:
        """The ASGI app."""
        return Starlette(routes=[Route("/version1/messaging", self.messaging, methods=["POST"])])

    async def messaging(self, request: Request) -> Response:
        if request.headers.get("content-type") != "application/x-www-form-urlencoded":
            return PlainTextResponse("Unsupported content type", status_code=415)
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True, strict_parsing=True))
        self.requests.append(form)
        self.headers.append(dict(request.headers))
        if request.headers.get("apikey") != self.api_key or form.get("username") != self.username:
            return PlainTextResponse("The supplied authentication is invalid", status_code=401)
        if not form.get("to") or not form.get("message"):
            return PlainTextResponse("Must have to and message", status_code=400)
        number = form["to"]
        if number in self.http_status:
            return PlainTextResponse("Too many requests", status_code=self.http_status[number])
        code = self.status_codes.get(number, 101)
        accepted = code in (100, 101, 102)
        cost = "KES 0.8000" if accepted else "0"
        recipient = {
            "statusCode": code,
            "number": number,
            "status": AT_STATUS[code],
            "cost": cost,
            "messageId": f"ATXid_{next(self._ids):08x}" if accepted else "None",
        }
        total = f"Sent to {int(accepted)}/1 Total Cost: {cost if accepted else 'KES 0'}"
        return JSONResponse({"SMSMessageData": {"Message": total, "Recipients": [recipient]}}, status_code=201)


@dataclass
class FakeWhatsAppCloud:
    """The messages endpoint of one business phone number: per number a scripted Graph error code."""

    phone_number_id: str = "106540352242922"
    access_token: str = "wa-test-token"  # noqa: S105 - a fake provider on loopback
    error_codes: dict[str, int] = field(default_factory=dict)  # number → error.code
    requests: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> Starlette:
        """The ASGI app."""
        return Starlette(routes=[Route("/{version}/{phone_number_id}/messages", self.messages, methods=["POST"])])

    @staticmethod
    def error(status: int, code: int, message: str, details: str) -> JSONResponse:
        """A Graph API error answer."""
        body = {
            "error": {
                "message": f"(#{code}) {message}",
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": details},
                "fbtrace_id": "AbCdEf123",
            }
        }
        return JSONResponse(body, status_code=status)

    async def messages(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return self.error(401, 190, "Access token has expired", "Error validating access token")
        if request.path_params["phone_number_id"] != self.phone_number_id:
            return self.error(400, 100, "Invalid parameter", "Unsupported post request: unknown phone number id")
        body = await request.json()
        self.requests.append(body)
        to, kind = body.get("to"), body.get("type")
        valid = body.get("messaging_product") == "whatsapp" and to and kind in ("text", "template")
        if kind == "template":
            template = body.get("template") or {}
            valid = valid and bool(template.get("name")) and bool((template.get("language") or {}).get("code"))
        if kind == "text":
            valid = valid and bool((body.get("text") or {}).get("body"))
        if not valid:
            return self.error(400, 100, "Invalid parameter", "the request does not follow the messages schema")
        if (code := self.error_codes.get(str(to))) is not None:
            status = 500 if code in (1, 2, 131000) else 400
            return self.error(status, code, "scripted", f"scripted error {code}")
        wa_id = str(to).lstrip("+")
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": wa_id}],
                "messages": [{"id": f"wamid.HBgL{next(self._ids):012d}"}],
            }
        )


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(app: Starlette) -> Iterator[str]:
    """Serve `app` on a loopback port (uvicorn in a thread) for the block; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the fake provider did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
