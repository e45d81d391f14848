"""The job body of the queue contract: exactly {"outbound_message_id": <positive int>}, anything else is poison."""

from __future__ import annotations

import pytest
from dispatch.codec import PoisonJob, decode_job, encode_job
from dispatch.topology import Topology


def test_a_job_round_trips() -> None:
    assert encode_job(42) == b'{"outbound_message_id":42}'
    assert decode_job(encode_job(42)) == 42


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\xfe",
        b"42",
        b'{"outbound_message_id": true}',
        b'{"outbound_message_id": 0}',
        b'{"outbound_message_id": -3}',
        b'{"outbound_message_id": 1.5}',
        b'{"outbound_message_id": 1, "extra": 2}',
        b'{"id": 1}',
    ],
)
def test_anything_else_is_poison(body: bytes) -> None:
    with pytest.raises(PoisonJob):
        decode_job(body)


def test_queue_names_derive_from_the_prefix() -> None:
    topology = Topology(prefix="sends", retry_delays_s=(1.0, 2.0))
    assert topology.queue_names() == ("sends", "sends.priority", "sends.retry.1", "sends.retry.2", "sends.dlq")
    assert topology.retry_routing_key(2) == "retry.2"
    with pytest.raises(ValueError, match="tier 3"):
        topology.retry_queue(3)
