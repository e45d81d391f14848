"""How the deliver use case routes each class of sender answer: accepted, transient, permanent, throttled."""

from __future__ import annotations

import random

from dispatch.codec import encode_job
from dispatch.lifecycle import Channel
from dispatch_worker.domain import OutgoingMessage, SendOutcome, SendStatus
from dispatch_worker.senders.mock import Latency, LatencyKind, MockSender
from psycopg_pool import AsyncConnectionPool

from dispatch_worker_tests.db_rows import campaign_state, seed_campaign, statuses
from dispatch_worker_tests.fakes import ScriptedSender
from dispatch_worker_tests.unit.test_deliver import build, drain


async def provider_columns(pool: AsyncConnectionPool, message_id: int) -> tuple[str | None, str | None, str | None]:
    """(provider, provider_message_id, last_error) of one message."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT provider, provider_message_id, last_error FROM outbound_messages WHERE id = %s", (message_id,)
        )
        row = await cur.fetchone()
        assert row is not None
        return row[0], row[1], row[2]


async def test_an_accepted_message_stores_the_provider_and_its_message_id(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    _, ids = await seed_campaign(database_url, 1)
    sender = ScriptedSender(provider_message_ids=True)
    deliver, queue, _ = build(pool, sender)
    queue.put(encode_job(ids[0]))
    await drain(deliver, queue)
    assert (await statuses(pool, ids))[ids[0]][:2] == ("sent", 0)
    assert await provider_columns(pool, ids[0]) == ("fake", f"fake-{ids[0]}", None)


async def test_a_permanent_refusal_fails_the_message_at_once_without_spending_a_retry(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    campaign_id, ids = await seed_campaign(database_url, 2)
    refused, accepted = ids
    sender = ScriptedSender(script={refused: [SendOutcome.permanent("kannel 400: invalid number")]})
    deliver, queue, metrics = build(pool, sender)
    for i in ids:
        queue.put(encode_job(i))
    await drain(deliver, queue)
    assert [m.id for m in sender.sent].count(refused) == 1
    rows = await statuses(pool, ids)
    assert rows[refused][:2] == ("failed", 0) and rows[accepted][:2] == ("sent", 0)
    assert not queue.retries
    assert [(j.outbound_message_id, reason, error) for j, reason, error in queue.dead] == [
        (refused, "rejected", "kannel 400: invalid number")
    ]
    provider, provider_id, last_error = await provider_columns(pool, refused)
    assert (provider, provider_id, last_error) == (None, None, "kannel 400: invalid number")
    assert await campaign_state(pool, campaign_id) == ("sent", True)  # one message sent: the campaign went out
    assert metrics.failed.labels("sms")._value.get() == 1
    assert metrics.retried.labels("sms")._value.get() == 0
    assert metrics.dead_lettered.labels("rejected")._value.get() == 1


async def test_a_throttled_message_waits_in_the_first_tier_and_is_sent_later_with_its_retries_unspent(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    campaign_id, ids = await seed_campaign(database_url, 1)
    # more throttles than the policy has retries: none of them may count
    throttles = [SendOutcome.throttled("kannel 503: Temporal failure, try again later.") for _ in range(5)]
    sender = ScriptedSender(script={ids[0]: throttles})
    deliver, queue, metrics = build(pool, sender)
    queue.put(encode_job(ids[0]))
    await deliver(await queue.receive(64, 0))
    assert [t for _, t in queue.retries] == [1]
    status, retry_count, _ = (await statuses(pool, ids))[ids[0]]
    assert (status, retry_count) == ("pending", 0)
    assert (await provider_columns(pool, ids[0]))[2] == "kannel 503: Temporal failure, try again later."
    assert await campaign_state(pool, campaign_id) == ("sending", False)
    tiers: list[int] = []
    for _ in range(4):
        tiers += queue.expire_retries()
        await deliver(await queue.receive(64, 0))
    assert tiers == [1, 1, 1, 1]
    await drain(deliver, queue)
    assert len(sender.sent) == 6
    assert (await statuses(pool, ids))[ids[0]][:2] == ("sent", 0)
    assert not queue.dead
    assert metrics.retried.labels("sms")._value.get() == 0
    assert await campaign_state(pool, campaign_id) == ("sent", True)


async def test_a_transient_failure_spends_a_retry_and_a_later_permanent_refusal_ends_it(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    _, ids = await seed_campaign(database_url, 1)
    script = [SendOutcome.transient("kannel 500: oops"), SendOutcome.permanent("kannel 403: denied")]
    sender = ScriptedSender(script={ids[0]: script})
    deliver, queue, _ = build(pool, sender)
    queue.put(encode_job(ids[0]))
    await deliver(await queue.receive(64, 0))
    assert [t for _, t in queue.retries] == [1]
    assert (await statuses(pool, ids))[ids[0]][:2] == ("pending", 1)
    await drain(deliver, queue)
    assert (await statuses(pool, ids))[ids[0]][:2] == ("failed", 1)
    assert [reason for _, reason, _ in queue.dead] == ["rejected"]


async def test_a_sender_that_raises_counts_as_a_transient_failure(pool: AsyncConnectionPool, database_url: str) -> None:
    _, ids = await seed_campaign(database_url, 1)

    class Exploding(ScriptedSender):
        async def send(self, message: OutgoingMessage) -> SendOutcome:
            self.sent.append(message)
            raise ConnectionResetError("peer went away")

    deliver, queue, _ = build(pool, Exploding())
    queue.put(encode_job(ids[0]))
    await deliver(await queue.receive(64, 0))
    assert (await statuses(pool, ids))[ids[0]][:2] == ("pending", 1)
    assert (await provider_columns(pool, ids[0]))[2] == "ConnectionResetError: peer went away"


async def test_the_mock_senders_failures_are_transient() -> None:
    mock = MockSender(random.Random(1), success_probability=0.0, latency=Latency(LatencyKind.FIXED, 0))
    await mock.close()
    message = OutgoingMessage(1, Channel.SMS, "+15550000001", "x")
    outcome = await mock.send(message)
    assert outcome.status is SendStatus.TRANSIENT
    assert (await MockSender(random.Random(1), 1.0, Latency(LatencyKind.FIXED, 0)).send(message)).ok
