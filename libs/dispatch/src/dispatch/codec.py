"""The job body: JSON {"outbound_message_id": N}, or {"outbound_message_ids": [N, ...]} for several messages.

The relay packs up to RELAY_JOB_SIZE messages of one lane and one trace into a job, so the broker's per-message
cost (a persistent quorum-queue write, a delivery and an ack) is paid once per job, not once per message. The
worker unpacks it into one job per message; retries, dead letters and replays always carry a single message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

CONTENT_TYPE: Final = "application/json"
# a bound far above any relay setting, so a hostile body cannot make one delivery a million claims
MAX_IDS_PER_JOB: Final = 1_000


class PoisonJob(ValueError):
    """A job body that can never be worked: not JSON, or not one of the two shapes with positive integers."""


def encode_job(outbound_message_id: int) -> bytes:
    """Serialise the job naming one outbound message (the worker makes one per message of a packed job: a format
    string, not json.dumps)."""
    return b'{"outbound_message_id":%d}' % outbound_message_id


def encode_jobs(outbound_message_ids: Sequence[int]) -> bytes:
    """Serialise one job naming the messages (the single-message shape for one)."""
    if len(outbound_message_ids) == 1:
        return encode_job(outbound_message_ids[0])
    return json.dumps({"outbound_message_ids": list(outbound_message_ids)}, separators=(",", ":")).encode()


def decode_job(body: bytes) -> int:
    """Return the outbound message id a single-message job names; raise PoisonJob for anything else."""
    return _single(_json(body), 'job body must be exactly {"outbound_message_id": N}')


def decode_jobs(body: bytes) -> tuple[int, ...]:
    """Return the outbound message ids a job names, in order, either shape; raise PoisonJob for anything else."""
    payload = _json(body)
    if isinstance(payload, dict) and set(payload) == {"outbound_message_ids"}:
        ids = payload["outbound_message_ids"]
        if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_IDS_PER_JOB:
            raise PoisonJob(f"outbound_message_ids must be a list of 1 to {MAX_IDS_PER_JOB} message ids")
        decoded = tuple(_positive(value, "outbound_message_ids") for value in ids)
        if len(set(decoded)) != len(decoded):
            raise PoisonJob("outbound_message_ids names a message twice")
        return decoded
    return (
        _single(payload, 'job body must be exactly {"outbound_message_id": N} or {"outbound_message_ids": [N, ...]}'),
    )


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PoisonJob(f"job body is not JSON: {exc}") from exc


def _single(payload: object, refusal: str) -> int:
    if not isinstance(payload, dict) or set(payload) != {"outbound_message_id"}:
        raise PoisonJob(refusal)
    return _positive(payload["outbound_message_id"], "outbound_message_id")


def _positive(value: object, name: str) -> int:
    # bool is an int subclass: true must not name message 1
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise PoisonJob(f"{name} must hold positive integers, got {value!r}")
    return value
