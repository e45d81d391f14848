"""Senders as data on real PostgreSQL: which sender each message goes through, the shared token bucket, what a
provider's answer leaves on the message."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import psycopg
import pytest
from dispatch.codec import encode_job
from dispatch.lifecycle import Channel, ClaimedMessage, Recipient
from dispatch_worker.domain import RetryPolicy
from dispatch_worker.metrics import WorkerMetrics
from dispatch_worker.senders.registry import AdapterRegistry
from dispatch_worker.settings import Settings
from dispatch_worker.usecases.deliver import Deliver
from dispatch_worker.usecases.sender_choice import SenderChoice
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

from dispatch_worker_tests.db_rows import create_sender, seed_campaign, use_account
from dispatch_worker_tests.fakes import FakeRenderer, InMemoryJobQueue, ScriptedSender
from dispatch_worker_tests.provider_fakes import FakeAfricasTalking, FakeWhatsAppCloud, serving

TAKE = "SELECT wait_s, rate_per_s FROM take_sender_tokens(%s, %s, %s, 1000)"


@pytest.fixture
def account() -> str:
    """An account of this test's own, so its default senders route no other test's campaigns."""
    return f"senders-{uuid.uuid4().hex[:8]}"


def claimed(message_id: int, campaign_id: int, channel: Channel, phone: str = "+15550000001") -> ClaimedMessage:
    return ClaimedMessage(message_id, campaign_id, channel, "hi", 0, Recipient(1, phone, "Ann", None, None, None))


def take(database_url: str, sender_id: int, tokens: float, rate: float) -> tuple[float, float]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(TAKE, (sender_id, tokens, rate)).fetchone()
        assert row is not None
        return float(row[0]), float(row[1])


async def test_the_bucket_gives_each_taker_the_slot_after_the_previous_one_at_the_senders_rate(
    database_url: str,
) -> None:
    sender_id = await create_sender(database_url, throughput_per_s=50)
    first_wait, rate = take(database_url, sender_id, 5000, 50)  # 100 s of this sender's throughput
    assert (first_wait, rate) == (0.0, 50.0)  # an idle bucket: the first may go at once
    second_wait, _ = take(database_url, sender_id, 10, 50)  # from another connection, as another replica would
    assert 99.0 < second_wait <= 100.0  # waits for the first taker's 5000 tokens to drain at 50/s


async def test_a_throttle_halves_the_senders_rate_until_it_recovers(database_url: str) -> None:
    sender_id = await create_sender(database_url, throughput_per_s=50)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT slow_sender(%s, 30)", (sender_id,))
    assert take(database_url, sender_id, 1, 50)[1] == 25.0
    with psycopg.connect(database_url, autocommit=True) as conn:
        # the slow-down ends: as if its 30 s had passed
        conn.execute(
            "UPDATE sender_throughput SET slow_until = now() - interval '1 s' WHERE sender_id = %s", (sender_id,)
        )
        throttles = conn.execute(
            "SELECT throttles FROM sender_throughput WHERE sender_id = %s", (sender_id,)
        ).fetchone()
    assert throttles == (1,)
    assert take(database_url, sender_id, 1, 50)[1] == 50.0


async def test_a_campaign_goes_through_its_sender_else_its_accounts_default_else_the_platforms(
    pool: AsyncConnectionPool, database_url: str, account: str
) -> None:
    named = await create_sender(database_url, address="NAMED", account=account)
    default = await create_sender(database_url, address="DEFAULT", is_default=True, account=account)
    with_sender, _ = await seed_campaign(database_url, 1, sender_id=named, account=account)
    without, _ = await seed_campaign(database_url, 1, account=account)
    other_channel, _ = await seed_campaign(database_url, 1, channel="whatsapp", account=account)
    platform = ScriptedSender(provider="platform")
    mock = ScriptedSender(provider="mock")
    choice = SenderChoice(pool, AdapterRegistry(Settings(), mock, environ={}), platform)
    routes = await choice.routes(
        [
            claimed(1, with_sender, Channel.SMS),
            claimed(2, without, Channel.SMS),
            claimed(3, other_channel, Channel.WHATSAPP),
        ]
    )
    assert [routes[i].sender_id for i in (1, 2, 3)] == [named, default, None]
    assert routes[1].sender is mock and routes[2].sender is mock  # one mock adapter for every mock sender
    assert routes[3].sender is platform  # no WhatsApp sender in the account: the configured SENDER


async def test_free_text_may_go_only_to_whatsapp_customers_who_wrote_in_the_last_24_hours(
    pool: AsyncConnectionPool, database_url: str, account: str
) -> None:
    campaign_id, _ = await seed_campaign(database_url, 1, channel="whatsapp", account=account)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await use_account(conn, account)
        await conn.execute(
            "INSERT INTO inbound_messages (channel, phone, body, provider, received_at) VALUES"
            " ('whatsapp', '+15550000001', 'hi', 'whatsapp', now() - interval '23 hours'),"
            " ('whatsapp', '+15550000002', 'hi', 'whatsapp', now() - interval '25 hours'),"
            " ('sms', '+15550000003', 'hi', 'kannel', now())"
        )
    choice = SenderChoice(pool, AdapterRegistry(Settings(), ScriptedSender(), environ={}), ScriptedSender())
    routes = await choice.routes([claimed(i, campaign_id, Channel.WHATSAPP, f"+1555000000{i}") for i in (1, 2, 3)])
    assert [routes[i].service_window_open for i in (1, 2, 3)] == [True, False, False]


@pytest.fixture
def at() -> Iterator[tuple[FakeAfricasTalking, str]]:
    fake = FakeAfricasTalking()
    with serving(fake.app()) as base:
        yield fake, base


@pytest.fixture
async def registries() -> AsyncIterator[list[AdapterRegistry]]:
    """The adapter registries a test builds, closed (their pooled connections with them) when it ends."""
    built: list[AdapterRegistry] = []
    yield built
    for registry in built:
        await registry.close()


def build(
    pool: AsyncConnectionPool, settings: Settings, environ: dict[str, str], registries: list[AdapterRegistry]
) -> tuple[Deliver, InMemoryJobQueue, WorkerMetrics]:
    queue = InMemoryJobQueue()
    metrics = WorkerMetrics.register(CollectorRegistry())
    platform = ScriptedSender(provider="platform")
    registries.append(AdapterRegistry(settings, ScriptedSender(provider="mock"), environ))
    choice = SenderChoice(pool, registries[-1], platform)
    deliver = Deliver(pool, queue, FakeRenderer(), platform, RetryPolicy((5.0, 30.0, 120.0)), metrics, choice=choice)
    return deliver, queue, metrics


async def message_rows(pool: AsyncConnectionPool, ids: list[int]) -> list[tuple[object, ...]]:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT status, provider, provider_message_id, sender_id, cost, cost_currency, retry_count, last_error"
            " FROM outbound_messages WHERE id = ANY(%s) ORDER BY id",
            (ids,),
        )
        return list(await cur.fetchall())


async def test_an_sms_through_an_aggregator_sender_stores_its_provider_id_cost_and_sender(
    pool: AsyncConnectionPool,
    database_url: str,
    at: tuple[FakeAfricasTalking, str],
    registries: list[AdapterRegistry],
) -> None:
    fake, base = at
    sender_id = await create_sender(database_url, provider="aggregator", address="SHOP", credentials_ref="AT_SHOP_KEY")
    _, ids = await seed_campaign(database_url, 2, sender_id=sender_id)
    settings = Settings(aggregator_url=f"{base}/version1/messaging")
    deliver, queue, _ = build(pool, settings, {"AT_SHOP_KEY": f"{fake.username}:{fake.api_key}"}, registries)
    for i in ids:
        queue.put(encode_job(i))
    await deliver(await queue.receive(10, 0))
    rows = await message_rows(pool, ids)
    assert [r[:2] for r in rows] == [("sent", "aggregator")] * 2
    assert all(str(r[2]).startswith("ATXid_") for r in rows)
    assert [r[3:6] for r in rows] == [(sender_id, Decimal("0.8000"), "KES")] * 2
    assert {f["from"] for f in fake.requests} == {"SHOP"}  # the sender's address


async def test_a_sender_whose_credentials_are_not_set_fails_its_messages_naming_the_variable(
    pool: AsyncConnectionPool, database_url: str, registries: list[AdapterRegistry]
) -> None:
    sender_id = await create_sender(database_url, provider="aggregator", credentials_ref="AT_MISSING_KEY")
    _, ids = await seed_campaign(database_url, 1, sender_id=sender_id)
    deliver, queue, _ = build(pool, Settings(), {}, registries)
    queue.put(encode_job(ids[0]))
    await deliver(await queue.receive(10, 0))
    (row,) = await message_rows(pool, ids)
    assert row[0] == "failed" and "AT_MISSING_KEY is not set" in str(row[7])
    assert [reason for _, reason, _ in queue.dead] == ["rejected"]


async def test_a_throttled_answer_keeps_the_retries_and_halves_the_senders_rate(
    pool: AsyncConnectionPool,
    database_url: str,
    at: tuple[FakeAfricasTalking, str],
    registries: list[AdapterRegistry],
) -> None:
    fake, base = at
    sender_id = await create_sender(database_url, provider="aggregator", throughput_per_s=40, credentials_ref="AT_KEY")
    _, ids = await seed_campaign(database_url, 1, sender_id=sender_id)
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT cu.phone FROM outbound_messages m JOIN customers cu ON cu.id = m.customer_id WHERE m.id = %s",
            (ids[0],),
        )
        row = await cur.fetchone()
        assert row is not None
    fake.http_status[str(row[0])] = 429
    deliver, queue, metrics = build(
        pool, Settings(aggregator_url=f"{base}/version1/messaging"), {"AT_KEY": "sandbox:at-test-key"}, registries
    )
    queue.put(encode_job(ids[0]))
    await deliver(await queue.receive(10, 0))
    (message,) = await message_rows(pool, ids)
    assert (message[0], message[6]) == ("pending", 0)  # back to wait, no retry spent
    assert [tier for _, tier in queue.retries] == [1]
    assert metrics.provider_throttles.labels("aggregator")._value.get() == 1
    assert (await asyncio.to_thread(take, database_url, sender_id, 1, 40))[1] == 20.0


async def test_a_batch_whose_sender_is_booked_far_ahead_goes_back_to_the_outbox_without_sending(
    pool: AsyncConnectionPool, database_url: str, registries: list[AdapterRegistry]
) -> None:
    sender_id = await create_sender(database_url, provider="mock", throughput_per_s=1)
    campaign_id, ids = await seed_campaign(database_url, 2, sender_id=sender_id)
    take(database_url, sender_id, 120, 1)  # another replica booked the next two minutes
    queue = InMemoryJobQueue()
    mock = ScriptedSender(provider="mock")
    registries.append(AdapterRegistry(Settings(), mock, {}))
    choice = SenderChoice(pool, registries[-1], ScriptedSender(), max_pacing_wait_s=5)
    metrics = WorkerMetrics.register(CollectorRegistry())
    deliver = Deliver(pool, queue, FakeRenderer(), mock, RetryPolicy((5.0,)), metrics, choice=choice)
    for i in ids:
        queue.put(encode_job(i))
    await deliver(await queue.receive(10, 0))
    assert mock.sent == []  # nothing went out, nothing is held
    assert len(queue.acked) == 2 and not queue.retries and not queue.dead
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT status, retry_count, published_at IS NULL, extract(epoch FROM not_before - now())"
            " FROM outbound_messages WHERE campaign_id = %s",
            (campaign_id,),
        )
        rows = await cur.fetchall()
    # pending in the outbox until the bucket frees, about two minutes on, retries unspent
    assert [(r[0], r[1], r[2]) for r in rows] == [("pending", 0, True)] * 2
    assert all(100 < float(r[3]) <= 121 for r in rows)


async def test_whatsapp_sends_free_text_inside_the_window_and_the_senders_template_outside_it(
    pool: AsyncConnectionPool, database_url: str, account: str, registries: list[AdapterRegistry]
) -> None:
    cloud = FakeWhatsAppCloud()
    sender_id = await create_sender(
        database_url, provider="whatsapp", channel="whatsapp", address=cloud.phone_number_id,
        credentials_ref="WA_TOKEN", whatsapp_template="campaign_update", account=account,
    )  # fmt: skip
    campaign_id, ids = await seed_campaign(database_url, 2, channel="whatsapp", sender_id=sender_id, account=account)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await use_account(conn, account)
        cur = await conn.execute(
            "SELECT cu.phone FROM outbound_messages m JOIN customers cu ON cu.id = m.customer_id"
            " WHERE m.campaign_id = %s ORDER BY m.id",
            (campaign_id,),
        )
        replied, silent = [str(r[0]) for r in await cur.fetchall()]
        await conn.execute(
            "INSERT INTO inbound_messages (channel, phone, body, provider) VALUES ('whatsapp', %s, 'hi', 'whatsapp')",
            (replied,),
        )
    with serving(cloud.app()) as base:
        settings = Settings(whatsapp_api_url=f"{base}/v21.0")
        deliver, queue, _ = build(pool, settings, {"WA_TOKEN": cloud.access_token}, registries)
        for i in ids:
            queue.put(encode_job(i))
        await deliver(await queue.receive(10, 0))
    kinds = {r["to"]: r["type"] for r in cloud.requests}
    assert kinds == {replied: "text", silent: "template"}
    rows = await message_rows(pool, ids)
    assert [r[:2] for r in rows] == [("sent", "whatsapp")] * 2
    assert all(str(r[2]).startswith("wamid.") and r[3] == sender_id for r in rows)
