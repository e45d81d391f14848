"""The job body of the queue contract: {"outbound_message_id": N} or {"outbound_message_ids": [N, ...]} of distinct
positive ints; anything else is poison."""

from __future__ import annotations

import pytest
from dispatch.codec import PoisonJob, decode_job, decode_jobs, encode_job, encode_jobs
from dispatch.lifecycle import UnpublishedMessage
from dispatch.relay import pack_jobs
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


def test_several_messages_travel_in_one_job_and_a_single_one_keeps_its_shape() -> None:
    assert encode_jobs([7]) == encode_job(7)
    assert decode_jobs(encode_jobs([7])) == (7,)
    assert encode_jobs([3, 1, 2]) == b'{"outbound_message_ids":[3,1,2]}'
    assert decode_jobs(encode_jobs([3, 1, 2])) == (3, 1, 2)


@pytest.mark.parametrize(
    "body",
    [
        b'{"outbound_message_ids": []}',
        b'{"outbound_message_ids": 5}',
        b'{"outbound_message_ids": [1, true]}',
        b'{"outbound_message_ids": [1, 0]}',
        b'{"outbound_message_ids": [1, 1]}',
        b'{"outbound_message_ids": [1], "outbound_message_id": 1}',
        b'{"outbound_message_ids": [' + b",".join(b"%d" % i for i in range(1, 1002)) + b"]}",
    ],
)
def test_a_job_of_several_messages_is_poison_unless_it_names_distinct_positive_ids(body: bytes) -> None:
    with pytest.raises(PoisonJob):
        decode_jobs(body)


def test_a_dead_letter_names_one_message_only() -> None:
    with pytest.raises(PoisonJob):
        decode_job(encode_jobs([1, 2]))


def test_the_relay_packs_rows_of_one_lane_and_one_trace_into_jobs_of_job_size() -> None:
    rows = [UnpublishedMessage(i, "00-a-01" if i <= 5 else None, transactional=i == 9) for i in range(1, 10)]
    priority, work = pack_jobs(rows, job_size=2)
    assert [job.ids for job in priority] == [(9,)]
    assert [(job.ids, dict(job.headers)) for job in work] == [
        ((1, 2), {"traceparent": "00-a-01"}),
        ((3, 4), {"traceparent": "00-a-01"}),
        ((5,), {"traceparent": "00-a-01"}),
        ((6, 7), {}),
        ((8,), {}),
    ]
