"""The job body: JSON {"outbound_message_id": N}."""

from __future__ import annotations

import json
from typing import Final

CONTENT_TYPE: Final = "application/json"


class PoisonJob(ValueError):
    """A job body that can never be worked: not JSON, or not {"outbound_message_id": <positive int>}."""


def encode_job(outbound_message_id: int) -> bytes:
    """Serialise the job naming one outbound message."""
    return json.dumps({"outbound_message_id": outbound_message_id}, separators=(",", ":")).encode()


def decode_job(body: bytes) -> int:
    """Return the outbound message id a job names; raise PoisonJob for anything else."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PoisonJob(f"job body is not JSON: {exc}") from exc
    if not isinstance(payload, dict) or set(payload) != {"outbound_message_id"}:
        raise PoisonJob('job body must be exactly {"outbound_message_id": N}')
    value = payload["outbound_message_id"]
    # bool is an int subclass: true must not name message 1
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise PoisonJob(f"outbound_message_id must be a positive integer, got {value!r}")
    return value
