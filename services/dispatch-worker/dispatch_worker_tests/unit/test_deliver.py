"""The deliver use case on the in-memory queue, fake sender and renderer, and real PostgreSQL rows."""

from __future__ import annotations

import pytest
from dispatch.codec import encode_job
from dispatch_worker.domain import RetryPolicy
from dispatch_worker.errors import TemplateUnavailable
from dispatch_worker.metrics import WorkerMetrics
from dispatch_worker.ports import Sender
from dispatch_worker.usecases.deliver import Deliver
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

from dispatch_worker_tests.db_rows import campaign_state, seed_campaign, statuses
from dispatch_worker_tests.fakes import FakeRenderer, InMemoryJobQueue, ScriptedSender


def build(
    pool: AsyncConnectionPool, sender: Sender, renderer: FakeRenderer | None = None
) -> tuple[Deliver, InMemoryJobQueue, WorkerMetrics]:
    queue = InMemoryJobQueue()
    metrics = WorkerMetrics.register(CollectorRegistry())
    deliver = Deliver(pool, queue, renderer or FakeRenderer(), sender, RetryPolicy((5.0, 30.0, 120.0)), metrics)
    return deliver, queue, metrics


async def drain(deliver: Deliver, queue: InMemoryJobQueue) -> None:
    """Work every ready job, moving expired retries back, until nothing is left."""
    for _ in range(20):
        jobs = await queue.receive(64, 0)
        if jobs:
            await deliver(jobs)
        elif queue.retries:
            queue.expire_retries()
        else:
            return


async def test_a_successful_send_marks_the_message_sent_and_completes_the_campaign(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    campaign_id, ids = await seed_campaign(database_url, 3)
    sender = ScriptedSender()
    deliver, queue, metrics = build(pool, sender)
    for i in ids:
        queue.put(encode_job(i))
    await drain(deliver, queue)
    rows = await statuses(pool, ids)
    assert {r[0] for r in rows.values()} == {"sent"}
    assert all(r[2] and "/Ann" in r[2] for r in rows.values())
    assert len(queue.acked) == 3 and not queue.held
    assert await campaign_state(pool, campaign_id) == ("sent", True)
    assert metrics.sent.labels("sms")._value.get() == 3


async def test_a_failed_attempt_is_retried_through_tier_one_then_sent(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    campaign_id, ids = await seed_campaign(database_url, 1)
    sender = ScriptedSender(failures={ids[0]: 1})
    deliver, queue, _ = build(pool, sender)
    queue.put(encode_job(ids[0]))
    await deliver(await queue.receive(64, 0))
    assert [t for _, t in queue.retries] == [1]
    assert (await statuses(pool, ids))[ids[0]][:2] == ("pending", 1)
    assert await campaign_state(pool, campaign_id) == ("sending", False)
    await drain(deliver, queue)
    assert (await statuses(pool, ids))[ids[0]][:2] == ("sent", 1)
    assert await campaign_state(pool, campaign_id) == ("sent", True)


async def test_four_failed_attempts_fail_the_message_and_dead_letter_its_job(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    campaign_id, ids = await seed_campaign(database_url, 1)
    sender = ScriptedSender(failures={ids[0]: 4})
    deliver, queue, metrics = build(pool, sender)
    queue.put(encode_job(ids[0]))
    tiers: list[int] = []
    for _ in range(4):
        await deliver(await queue.receive(64, 0))
        tiers += queue.expire_retries()
    assert tiers == [1, 2, 3]
    assert len(sender.sent) == 4
    assert (await statuses(pool, ids))[ids[0]][:2] == ("failed", 3)
    assert [(j.outbound_message_id, reason) for j, reason, _ in queue.dead] == [(ids[0], "exhausted")]
    assert queue.dead[0][2] == "scripted failure"
    assert await campaign_state(pool, campaign_id) == ("failed", True)
    assert metrics.dead_lettered.labels("exhausted")._value.get() == 1


@pytest.mark.parametrize("body", [b"not json", b'{"outbound_message_id": "7"}', b"[]", encode_job(987_654_321)])
async def test_a_poison_job_goes_to_the_dlq_at_once(pool: AsyncConnectionPool, body: bytes) -> None:
    sender = ScriptedSender()
    deliver, queue, _ = build(pool, sender)
    queue.put(body)
    await deliver(await queue.receive(64, 0))
    assert [(j.body, reason) for j, reason, _ in queue.dead] == [(body, "poison")]
    assert len(queue.acked) == 1 and not queue.ready and not sender.sent


async def test_a_duplicate_delivery_of_a_finished_message_is_acked_without_sending(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    _, ids = await seed_campaign(database_url, 1)
    sender = ScriptedSender()
    deliver, queue, _ = build(pool, sender)
    queue.put(encode_job(ids[0]))
    await drain(deliver, queue)
    queue.put(encode_job(ids[0]), redelivered=True)
    queue.put(encode_job(ids[0]))
    await drain(deliver, queue)
    assert len(sender.sent) == 1
    assert len(queue.acked) == 3 and not queue.dead


async def test_template_svc_down_requeues_nothing_spent(pool: AsyncConnectionPool, database_url: str) -> None:
    _, ids = await seed_campaign(database_url, 2)
    renderer = FakeRenderer(down=True)
    sender = ScriptedSender()
    deliver, queue, _ = build(pool, sender, renderer)
    for i in ids:
        queue.put(encode_job(i))
    jobs = await queue.receive(64, 0)
    with pytest.raises(TemplateUnavailable):
        await deliver(jobs)
    assert {r[:2] for r in (await statuses(pool, ids)).values()} == {("pending", 0)}
    assert not sender.sent and not queue.acked
    await queue.release(jobs)  # what the consumer does
    renderer.down = False
    await drain(deliver, queue)
    assert {r[:2] for r in (await statuses(pool, ids)).values()} == {("sent", 0)}


async def test_a_stale_sending_claim_is_taken_over_on_redelivery(pool: AsyncConnectionPool, database_url: str) -> None:
    _, ids = await seed_campaign(database_url, 2)
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE outbound_messages SET status = 'sending', claimed_at = now() WHERE id = ANY(%s)", (ids,)
        )
    sender = ScriptedSender()
    deliver, queue, _ = build(pool, sender)
    queue.put(encode_job(ids[0]))  # a duplicate job while a live worker holds the message: not sent again
    queue.put(encode_job(ids[1]), redelivered=True)  # its holder died: the broker redelivered it
    await drain(deliver, queue)
    assert [m.id for m in sender.sent] == [ids[1]]
    rows = await statuses(pool, ids)
    assert rows[ids[0]][0] == "sending" and rows[ids[1]][0] == "sent"
