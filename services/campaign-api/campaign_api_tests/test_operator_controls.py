"""Operator controls through the API: pause, resume and cancel a sending campaign, its pace, dead letters, their
replay (the database and RabbitMQ's DLQ agree afterwards) and the retry of a campaign's failures."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import httpx
import psycopg
import pytest
from campaign_api.main import create_app
from campaign_api.settings import Settings
from dispatch.codec import decode_job
from dispatch.publisher import JobPublisher, OutgoingJob
from dispatch.topology import Topology, delete_topology
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from campaign_api_tests.factories import KeyedAccount, assert_error, create_campaign, create_customer

Db = psycopg.AsyncConnection[tuple[Any, ...]]
# what a worker does to a message: takes it (published, sending), or records it sent
SET_STATUS = (
    "UPDATE outbound_messages SET status = %s, published_at = now(),"
    " sent_at = CASE WHEN %s = 'sent' THEN now() END WHERE id = %s"
)


async def sending_campaign(client: httpx.AsyncClient, customers: int = 4, **fields: Any) -> int:
    """The id of a campaign sent to fresh customers (its messages wait in the outbox: no relay runs here)."""
    campaign = await create_campaign(client, **fields)
    ids = [(await create_customer(client))["id"] for _ in range(customers)]
    send = await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": ids})
    assert send.status_code == 202, send.text
    campaign_id: int = campaign["id"]
    return campaign_id


async def messages(db: Db, campaign_id: int) -> list[tuple[int, str, bool, str]]:
    """(id, status, in the outbox, not_before as text) of each message, in id order."""
    cur = await db.execute(
        "SELECT id, status, published_at IS NULL, not_before::text FROM outbound_messages"
        " WHERE campaign_id = %s ORDER BY id",
        (campaign_id,),
    )
    return [(int(r[0]), str(r[1]), bool(r[2]), str(r[3])) for r in await cur.fetchall()]


async def status_of(client: httpx.AsyncClient, campaign_id: int) -> tuple[str, dict[str, int]]:
    body = (await client.get(f"/campaigns/{campaign_id}")).json()
    return body["status"], body["stats"]


async def test_a_paused_campaign_keeps_its_messages_waiting_and_resumes_where_it_stopped(
    client: httpx.AsyncClient, db: Db
) -> None:
    campaign_id = await sending_campaign(client)
    rows = await messages(db, campaign_id)
    # one already with a worker, one already sent: a pause leaves both alone
    await db.execute(SET_STATUS, ("sending", "sending", rows[0][0]))
    await db.execute(SET_STATUS, ("sent", "sent", rows[1][0]))

    paused = await client.post(f"/campaigns/{campaign_id}/pause")

    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "paused"
    status, stats = await status_of(client, campaign_id)
    assert (status, stats["pending"], stats["sending"], stats["sent"]) == ("paused", 2, 1, 1)
    # the waiting ones sit parked in the outbox, where the relay never looks
    assert [(s, out, nb) for _, s, out, nb in (await messages(db, campaign_id))[2:]] == [
        ("pending", True, "infinity"),
        ("pending", True, "infinity"),
    ]
    assert_error(await client.post(f"/campaigns/{campaign_id}/pause"), 409, "CAMPAIGN_NOT_PAUSABLE")

    resumed = await client.post(f"/campaigns/{campaign_id}/resume")

    assert resumed.status_code == 200 and resumed.json()["status"] == "sending"
    assert [nb for *_, nb in (await messages(db, campaign_id))[2:]] == ["-infinity", "-infinity"]
    assert_error(await client.post(f"/campaigns/{campaign_id}/resume"), 409, "CAMPAIGN_NOT_RESUMABLE")
    audit = (await client.get("/audit-events", params={"limit": 2})).json()["data"]
    assert [(e["action"], e["target_id"]) for e in audit] == [
        ("campaign.resumed", campaign_id),
        ("campaign.paused", campaign_id),
    ]
    assert audit[1]["changes"] == {"parked": 2}


async def test_a_paused_campaign_whose_last_attempts_ended_completes_when_resumed(
    client: httpx.AsyncClient, db: Db
) -> None:
    campaign_id = await sending_campaign(client, customers=2)
    assert (await client.post(f"/campaigns/{campaign_id}/pause")).status_code == 200
    # the attempts in flight end while it is paused; the completion rule leaves a paused campaign alone
    await db.execute(
        "UPDATE outbound_messages SET status = 'sent', sent_at = now() WHERE campaign_id = %s", (campaign_id,)
    )
    await db.execute("SELECT complete_campaigns(NULL)")
    assert (await status_of(client, campaign_id))[0] == "paused"

    assert (await client.post(f"/campaigns/{campaign_id}/resume")).status_code == 200

    assert (await status_of(client, campaign_id))[0] == "sent"


async def test_cancelling_a_sending_campaign_ends_its_waiting_messages_and_lets_the_in_flight_finish(
    client: httpx.AsyncClient, db: Db
) -> None:
    campaign_id = await sending_campaign(client, customers=3)
    in_flight = (await messages(db, campaign_id))[0][0]
    await db.execute(SET_STATUS, ("sending", "sending", in_flight))

    cancelled = await client.post(f"/campaigns/{campaign_id}/cancel")

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    rows = await messages(db, campaign_id)
    # the ended ones left the outbox: the relay never publishes them
    assert [(s, out) for _, s, out, _ in rows] == [("sending", False), ("cancelled", False), ("cancelled", False)]
    # the attempt in flight is recorded when it ends, and the campaign stays cancelled
    await db.execute(SET_STATUS, ("sent", "sent", in_flight))
    await db.execute("SELECT complete_campaigns(%s)", ([campaign_id],))
    status, stats = await status_of(client, campaign_id)
    assert (status, stats["sent"], stats["cancelled"], stats["failed"]) == ("cancelled", 1, 2, 0)
    assert_error(await client.post(f"/campaigns/{campaign_id}/cancel"), 409, "CAMPAIGN_NOT_CANCELLABLE")
    assert_error(await client.post(f"/campaigns/{campaign_id}/resume"), 409, "CAMPAIGN_NOT_RESUMABLE")


async def test_a_paused_campaign_can_be_cancelled(client: httpx.AsyncClient, db: Db) -> None:
    campaign_id = await sending_campaign(client, customers=2)
    assert (await client.post(f"/campaigns/{campaign_id}/pause")).status_code == 200

    assert (await client.post(f"/campaigns/{campaign_id}/cancel")).json()["status"] == "cancelled"

    assert {s for _, s, _, _ in await messages(db, campaign_id)} == {"cancelled"}


async def test_pause_and_resume_answer_409_404_and_422_in_the_error_shape(client: httpx.AsyncClient) -> None:
    draft = await create_campaign(client)
    assert "draft" in assert_error(await client.post(f"/campaigns/{draft['id']}/pause"), 409, "CAMPAIGN_NOT_PAUSABLE")
    assert_error(await client.post(f"/campaigns/{draft['id']}/resume"), 409, "CAMPAIGN_NOT_RESUMABLE")
    assert_error(await client.post("/campaigns/999999999/pause"), 404, "CAMPAIGN_NOT_FOUND")
    assert_error(await client.post("/campaigns/999999999/resume"), 404, "CAMPAIGN_NOT_FOUND")
    assert_error(await client.post("/campaigns/0/pause"), 422, "VALIDATION_ERROR")


async def test_paused_and_cancelled_campaigns_are_never_due_nor_sent_again(client: httpx.AsyncClient, db: Db) -> None:
    paused_id = await sending_campaign(client, customers=1)
    cancelled_id = await sending_campaign(client, customers=1)
    assert (await client.post(f"/campaigns/{paused_id}/pause")).status_code == 200
    assert (await client.post(f"/campaigns/{cancelled_id}/cancel")).status_code == 200
    # even with a scheduled_at long passed, the scheduler's due list holds only scheduled campaigns
    await db.execute(
        "UPDATE campaigns SET scheduled_at = now() - interval '1 hour' WHERE id = ANY(%s)", ([paused_id, cancelled_id],)
    )

    due = (await client.get("/campaigns/due")).json()["data"]

    assert {paused_id, cancelled_id}.isdisjoint(d["id"] for d in due)
    for campaign_id in (paused_id, cancelled_id):
        assert_error(await client.post(f"/campaigns/{campaign_id}/send"), 409, "CAMPAIGN_NOT_SENDABLE")


async def test_a_pace_spreads_a_send_over_slots_and_lifting_it_releases_them(client: httpx.AsyncClient, db: Db) -> None:
    campaign = await create_campaign(client)
    paced = await client.put(f"/campaigns/{campaign['id']}/pace", json={"pace_per_minute": 60})
    assert paced.status_code == 200 and paced.json() == {"pace_per_minute": 60}
    assert (await client.get(f"/campaigns/{campaign['id']}/pace")).json() == {"pace_per_minute": 60}
    ids = [(await create_customer(client))["id"] for _ in range(4)]
    assert (await client.post(f"/campaigns/{campaign['id']}/send", json={"customer_ids": ids})).status_code == 202

    cur = await db.execute(
        "SELECT extract(epoch FROM not_before - min(not_before) OVER ())::float FROM outbound_messages"
        " WHERE campaign_id = %s ORDER BY id",
        (campaign["id"],),
    )
    # one a second: the relay publishes each only when its slot comes, whichever replica and worker there are
    assert [round(r[0], 3) for r in await cur.fetchall()] == [0.0, 1.0, 2.0, 3.0]

    lifted = await client.put(f"/campaigns/{campaign['id']}/pace", json={"pace_per_minute": None})

    assert lifted.json() == {"pace_per_minute": None}
    cur = await db.execute(
        "SELECT count(*) FROM outbound_messages WHERE campaign_id = %s AND not_before > now()", (campaign["id"],)
    )
    assert (await cur.fetchone()) == (0,)
    assert_error(
        await client.put(f"/campaigns/{campaign['id']}/pace", json={"pace_per_minute": 0}), 422, "VALIDATION_ERROR"
    )
    assert_error(await client.put("/campaigns/999999999/pace", json={"pace_per_minute": 5}), 404, "CAMPAIGN_NOT_FOUND")


# ---- dead letters: over a topology of this module's own, so a replay prunes a DLQ nobody else uses --------------


@pytest.fixture(scope="module")
def topology() -> Topology:
    return Topology(prefix=f"test_ops_{uuid.uuid4().hex[:12]}", retry_delays_s=(0.2,))


@pytest.fixture(scope="module")
async def ops_client(
    settings: Settings, account: KeyedAccount, topology: Topology, amqp_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The app publishing into this module's topology, with the session account's key."""
    app: FastAPI = create_app(
        settings.model_copy(update={"queue_prefix": topology.prefix, "retry_delays_s": topology.retry_delays_s}),
        registry=CollectorRegistry(),
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api", headers=account.headers) as http:
            yield http
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        await delete_topology(await connection.channel(), topology)


async def dead_letter(db: Db, ids: list[int], reason: str, error: str = "provider down") -> None:
    """What the worker leaves for a message that failed for good."""
    await db.execute(
        "UPDATE outbound_messages SET status = 'failed', retry_count = 3, last_error = %s, published_at = now(),"
        " dead_letter_reason = %s, dead_lettered_at = now() WHERE id = ANY(%s)",
        (error, reason, ids),
    )


async def publish_to_dlq(amqp_url: str, topology: Topology, ids: list[int], poison: bytes | None = None) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        publisher = await JobPublisher.open(await connection.channel(publisher_confirms=True), topology)
        await publisher.publish_dead([OutgoingJob(i, {"x-death-reason": "exhausted"}) for i in ids])
        if poison is not None:
            await publisher.publish_raw_dead(poison, {"x-death-reason": "poison"})


async def dlq_contents(amqp_url: str, topology: Topology) -> list[int | bytes]:
    """Every job in the DLQ (message ids, or the raw body of a poison job), taken off it."""
    found: list[int | bytes] = []
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        queue = await (await connection.channel()).declare_queue(topology.dead_letter_queue, passive=True)
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            try:
                found.append(decode_job(message.body))
            except ValueError:
                found.append(message.body)
    return found


async def test_dead_letters_are_listed_with_reason_error_and_attempts_filtered_and_paged(
    ops_client: httpx.AsyncClient, db: Db, other: httpx.AsyncClient
) -> None:
    campaign_id = await sending_campaign(ops_client, customers=4)
    ids = [r[0] for r in await messages(db, campaign_id)]
    await dead_letter(db, ids[:3], "exhausted")
    await dead_letter(db, ids[3:], "rejected", "invalid number")

    page = (await ops_client.get("/dead-letters", params={"campaign_id": campaign_id, "limit": 2})).json()

    assert [d["id"] for d in page["data"]] == [ids[3], ids[2]]
    first = page["data"][0]
    assert (first["reason"], first["last_error"], first["attempts"], first["campaign_id"]) == (
        "rejected",
        "invalid number",
        4,
        campaign_id,
    )
    rest = (
        await ops_client.get(
            "/dead-letters", params={"campaign_id": campaign_id, "limit": 2, "before_id": page["next_cursor"]}
        )
    ).json()
    assert [d["id"] for d in rest["data"]] == [ids[1], ids[0]] and rest["next_cursor"] is None
    exhausted = (
        await ops_client.get("/dead-letters", params={"campaign_id": campaign_id, "reason": "exhausted"})
    ).json()
    assert {d["id"] for d in exhausted["data"]} == set(ids[:3])
    # another account sees none of them
    assert (await other.get("/dead-letters", params={"campaign_id": campaign_id})).json()["data"] == []
    assert_error(await ops_client.get("/dead-letters", params={"reason": "bored"}), 422, "VALIDATION_ERROR")


async def test_a_replay_sends_dead_letters_again_once_and_takes_them_off_the_dlq(
    ops_client: httpx.AsyncClient, db: Db, amqp_url: str, topology: Topology
) -> None:
    campaign_id = await sending_campaign(ops_client, customers=3)
    ids = [r[0] for r in await messages(db, campaign_id)]
    await dead_letter(db, ids, "exhausted")
    await db.execute("UPDATE campaigns SET status = 'failed', completed_at = now() WHERE id = %s", (campaign_id,))
    # the DLQ as the worker left it: one job per message (one twice, as a crash can leave it) and a poison job
    await publish_to_dlq(amqp_url, topology, [*ids, ids[2]], poison=b"not json")

    replayed = await ops_client.post("/dead-letters/replay", json={"message_ids": ids[:2]})

    assert replayed.status_code == 200, replayed.text
    assert replayed.json() == {
        "replayed": 2,
        "message_ids": ids[:2],
        "campaign_ids": [campaign_id],
        "removed_from_dlq": 3,  # the two replayed, and the second copy of the one left
    }
    cur = await db.execute(
        "SELECT status, retry_count, published_at IS NULL, dead_lettered_at IS NULL FROM outbound_messages"
        " WHERE id = ANY(%s) ORDER BY id",
        (ids,),
    )
    assert await cur.fetchall() == [("pending", 0, True, True), ("pending", 0, True, True), ("failed", 3, False, False)]
    # its failures are queued again: the campaign sends again, and completes again when they end
    assert (await status_of(ops_client, campaign_id))[0] == "sending"
    # asked again, nothing is replayed twice
    again = (await ops_client.post("/dead-letters/replay", json={"message_ids": ids[:2]})).json()
    assert again["replayed"] == 0
    audit = (await ops_client.get("/audit-events", params={"limit": 2})).json()["data"]
    assert [e["action"] for e in audit] == ["dead_letters.replayed", "dead_letters.replayed"]
    assert audit[1]["changes"]["requeued"] == 2 and audit[1]["api_key_id"] is not None
    # the DLQ agrees with the database: the one dead letter left, once, and the poison job an operator must read
    assert sorted(await dlq_contents(amqp_url, topology), key=str) == sorted([ids[2], b"not json"], key=str)


async def test_the_dlq_is_empty_once_a_replay_of_forty_dead_letters_answers(
    ops_client: httpx.AsyncClient, db: Db, amqp_url: str, topology: Topology
) -> None:
    # more acks than a quorum queue's channel sends before the queue has applied them: a prune that closed its
    # channel before they were applied saw some dropped and their jobs back in the DLQ (1 round in 10 to 20)
    campaign_id = await sending_campaign(ops_client, customers=40)
    ids = [r[0] for r in await messages(db, campaign_id)]
    for _ in range(10):
        await dead_letter(db, ids, "exhausted")
        await publish_to_dlq(amqp_url, topology, ids)

        replayed = (await ops_client.post("/dead-letters/replay", json={"campaign_id": campaign_id})).json()

        assert (replayed["replayed"], replayed["removed_from_dlq"]) == (40, 40)
        # a dropped ack returns its job a few milliseconds after the channel closed
        await asyncio.sleep(0.1)
        assert await dlq_contents(amqp_url, topology) == []


async def test_a_replay_by_campaign_or_reason_and_one_without_a_filter(
    ops_client: httpx.AsyncClient, db: Db, amqp_url: str, topology: Topology
) -> None:
    campaign_id = await sending_campaign(ops_client, customers=3)
    ids = [r[0] for r in await messages(db, campaign_id)]
    await dead_letter(db, ids[:2], "exhausted")
    await dead_letter(db, ids[2:], "rejected")
    await publish_to_dlq(amqp_url, topology, ids)

    by_reason = (
        await ops_client.post("/dead-letters/replay", json={"campaign_id": campaign_id, "reason": "rejected"})
    ).json()
    by_campaign = (await ops_client.post("/dead-letters/replay", json={"campaign_id": campaign_id})).json()

    assert (by_reason["message_ids"], by_reason["removed_from_dlq"]) == (ids[2:], 1)
    assert (by_campaign["message_ids"], by_campaign["removed_from_dlq"]) == (ids[:2], 2)
    assert await dlq_contents(amqp_url, topology) == []
    assert_error(await ops_client.post("/dead-letters/replay", json={}), 422, "REPLAY_FILTER_REQUIRED")
    assert_error(await ops_client.post("/dead-letters/replay", json={"message_ids": []}), 422, "VALIDATION_ERROR")


async def test_retry_failed_queues_only_failed_messages_once(
    ops_client: httpx.AsyncClient, db: Db, amqp_url: str, topology: Topology
) -> None:
    campaign_id = await sending_campaign(ops_client, customers=5)
    ids = [r[0] for r in await messages(db, campaign_id)]
    await dead_letter(db, ids[:1], "exhausted")
    await publish_to_dlq(amqp_url, topology, ids[:1])
    # a failure from before dead letters were recorded, and three messages that were never attempted
    await db.execute("UPDATE outbound_messages SET status = 'failed' WHERE id = %s", (ids[1],))
    for message_id, status in zip(ids[2:], ["suppressed", "expired", "cancelled"], strict=True):
        await db.execute("UPDATE outbound_messages SET status = %s WHERE id = %s", (status, message_id))
    await db.execute("UPDATE campaigns SET status = 'sent', completed_at = now() WHERE id = %s", (campaign_id,))

    first = await ops_client.post(f"/campaigns/{campaign_id}/retry-failed")
    second = await ops_client.post(f"/campaigns/{campaign_id}/retry-failed")

    assert first.status_code == 200, first.text
    assert (first.json()["message_ids"], first.json()["removed_from_dlq"]) == (ids[:2], 1)
    assert second.json()["replayed"] == 0
    _, stats = await status_of(ops_client, campaign_id)
    assert (stats["pending"], stats["failed"], stats["suppressed"], stats["expired"], stats["cancelled"]) == (
        2,
        0,
        1,
        1,
        1,
    )
    assert (await status_of(ops_client, campaign_id))[0] == "sending"
    draft = await create_campaign(ops_client)
    assert_error(await ops_client.post(f"/campaigns/{draft['id']}/retry-failed"), 409, "CAMPAIGN_NOT_RETRYABLE")
    assert_error(await ops_client.post("/campaigns/999999999/retry-failed"), 404, "CAMPAIGN_NOT_FOUND")


@pytest.fixture
async def other(app: FastAPI, other_account: KeyedAccount) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api", headers=other_account.headers) as http:
        yield http
