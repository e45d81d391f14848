"""The compliance gate through the real Deliver use case, real PostgreSQL rows and a pinned clock: send windows in
the recipient's own time (the account's, and the narrower window of the message's sender), suppression (a STOP
mid-campaign, then START), validity; none of it spends a retry, and the gate's counters say what it decided."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from dispatch.codec import encode_job
from dispatch_worker.domain import RetryPolicy
from dispatch_worker.metrics import WorkerMetrics
from dispatch_worker.usecases.compliance_gate import ComplianceGate
from dispatch_worker.usecases.deliver import Deliver
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

from dispatch_worker_tests.db_rows import campaign_state
from dispatch_worker_tests.fakes import FakeRenderer, InMemoryJobQueue, ScriptedSender

NAIROBI = ZoneInfo("Africa/Nairobi")


def eat(hour: int, minute: int = 0, second: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=NAIROBI)


@dataclass
class PinnedClock:
    """The gate's clock, moved by the test."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Account:
    """An account of this module's own (a window set here never reaches the other tests' account)."""

    database_url: str
    id: int = 0
    phones: list[str] = field(default_factory=list)

    async def connect(self) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        conn = await psycopg.AsyncConnection.connect(self.database_url, autocommit=True)
        if not self.id:
            cur = await conn.execute("INSERT INTO accounts (name) VALUES (%s) RETURNING id", (f"gate-{uuid.uuid4()}",))
            row = await cur.fetchone()
            assert row is not None
            self.id = int(row[0])
        await conn.execute("SELECT set_config('app.account_id', %s, false)", (str(self.id),))
        return conn

    async def set_window(self, start: str, end: str, zone: str) -> None:
        async with await self.connect() as conn:
            await conn.execute(
                "INSERT INTO account_compliance (window_start, window_end, window_time_zone) VALUES (%s, %s, %s)",
                (start, end, zone),
            )

    async def sender(self, window: tuple[str, str, str] | None = None, *, default: bool = False) -> int:
        """A mock SMS sender, with its own send window (start, end, zone) when given."""
        start, end, zone = window or (None, None, None)
        async with await self.connect() as conn:
            cur = await conn.execute(
                "INSERT INTO senders (name, channel, provider, address, is_default, callback_token, window_start,"
                " window_end, window_time_zone) VALUES (%s, 'sms', 'mock', 'ACME', %s, %s, %s, %s, %s) RETURNING id",
                (f"sender-{uuid.uuid4()}", default, uuid.uuid4().hex, start, end, zone),
            )
            row = await cur.fetchone()
            assert row is not None
            return int(row[0])

    async def remove_sender_window(self, sender_id: int) -> None:
        """What PATCH /senders/{id} with send_window null stores."""
        async with await self.connect() as conn:
            await conn.execute(
                "UPDATE senders SET window_start = NULL, window_end = NULL, window_time_zone = NULL WHERE id = %s",
                (sender_id,),
            )

    async def suppress(self, phone: str, channel: str | None = None) -> None:
        """What a STOP texted in (or POST /suppressions) leaves behind."""
        async with await self.connect() as conn:
            await conn.execute(
                "INSERT INTO suppressions (phone, channel, source) VALUES (%s, %s, 'keyword')", (phone, channel)
            )

    async def lift(self, phone: str) -> None:
        """What START does to the keyword's suppression."""
        async with await self.connect() as conn:
            await conn.execute("DELETE FROM suppressions WHERE phone = %s", (phone,))

    async def campaign(
        self,
        zones: Sequence[str | None],
        *,
        started: datetime,
        category: str = "promotional",
        validity_hours: int = 24,
        sender_id: int | None = None,
    ) -> tuple[int, list[int]]:
        """A sending campaign with one published message per customer (one customer per zone given)."""
        async with await self.connect() as conn:
            cur = await conn.execute(
                "INSERT INTO campaigns (name, channel, status, base_template, sending_started_at, category,"
                " validity_hours, sender_id) VALUES ('gate', 'sms', 'sending', 'Hi {first_name}', %s, %s, %s, %s)"
                " RETURNING id",
                (started, category, validity_hours, sender_id),
            )
            row = await cur.fetchone()
            assert row is not None
            campaign_id = int(row[0])
            message_ids = []
            for zone in zones:
                phone = f"+2547{uuid.uuid4().int % 10**8:08d}"
                self.phones.append(phone)
                cur = await conn.execute(
                    "INSERT INTO customers (phone, first_name, time_zone) VALUES (%s, 'Ann', %s) RETURNING id",
                    (phone, zone),
                )
                customer = await cur.fetchone()
                assert customer is not None
                cur = await conn.execute(
                    "INSERT INTO outbound_messages (campaign_id, customer_id, status, published_at)"
                    " VALUES (%s, %s, 'pending', now()) RETURNING id",
                    (campaign_id, customer[0]),
                )
                message = await cur.fetchone()
                assert message is not None
                message_ids.append(int(message[0]))
        return campaign_id, message_ids


async def rows(pool: AsyncConnectionPool, ids: Sequence[int]) -> dict[int, tuple[str, int, datetime | None, bool]]:
    """id → (status, retry_count, not_before (None: at once), published) of the messages."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT id, status, retry_count, nullif(not_before, '-infinity'), published_at IS NOT NULL"
            " FROM outbound_messages WHERE id = ANY(%s)",
            (list(ids),),
        )
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in await cur.fetchall()}


def build(
    pool: AsyncConnectionPool, clock: PinnedClock, registry: CollectorRegistry | None = None
) -> tuple[Deliver, InMemoryJobQueue, ScriptedSender]:
    queue, sender = InMemoryJobQueue(), ScriptedSender()
    metrics = WorkerMetrics.register(registry or CollectorRegistry())
    deliver = Deliver(
        pool, queue, FakeRenderer(), sender, RetryPolicy((5.0, 30.0, 120.0)), metrics, gate=ComplianceGate(clock)
    )
    return deliver, queue, sender


async def deliver_jobs(deliver: Deliver, queue: InMemoryJobQueue, ids: Sequence[int]) -> None:
    """The relay publishes the messages; the worker takes them in one batch."""
    for i in ids:
        queue.put(encode_job(i))
    await deliver(await queue.receive(64, 0))


def nothing_spent(queue: InMemoryJobQueue) -> bool:
    """No job was sent to a retry tier or the DLQ, and none is left unacked."""
    return not queue.retries and not queue.dead and not queue.held


async def test_a_message_at_17_59_59_eat_goes_and_one_at_18_00_00_waits_until_08_00_00(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    account = Account(database_url)
    await account.set_window("08:00", "18:00", "Africa/Nairobi")
    _, (early, late) = await account.campaign([None, None], started=eat(17))
    clock = PinnedClock(eat(17, 59, 59))
    deliver, queue, sender = build(pool, clock)

    await deliver_jobs(deliver, queue, [early])
    clock.now = eat(18)
    await deliver_jobs(deliver, queue, [late])

    assert [m.id for m in sender.sent] == [early]
    found = await rows(pool, [early, late])
    assert found[early][0] == "sent"
    # back in the outbox, unpublished, retries unspent, until 08:00 EAT the next morning
    assert found[late] == ("pending", 0, eat(8, day=2), False)
    assert nothing_spent(queue) and len(queue.acked) == 2

    clock.now = eat(8, day=2)  # the relay publishes it again when its not_before comes
    await deliver_jobs(deliver, queue, [late])
    assert [m.id for m in sender.sent] == [early, late]
    assert (await rows(pool, [late]))[late][:2] == ("sent", 0)


async def test_a_customer_in_another_zone_follows_their_own_clock(pool: AsyncConnectionPool, database_url: str) -> None:
    account = Account(database_url)
    await account.set_window("08:00", "18:00", "Africa/Nairobi")
    _, (nairobi, lagos, tokyo) = await account.campaign([None, "Africa/Lagos", "Asia/Tokyo"], started=eat(19))
    clock = PinnedClock(eat(19, 30))  # 17:30 in Lagos, 01:30 the next day in Tokyo
    deliver, queue, sender = build(pool, clock)

    await deliver_jobs(deliver, queue, [nairobi, lagos, tokyo])

    assert [m.id for m in sender.sent] == [lagos]
    found = await rows(pool, [nairobi, lagos, tokyo])
    assert found[nairobi][:3] == ("pending", 0, eat(8, day=2))
    assert found[tokyo][:3] == ("pending", 0, datetime(2026, 12, 2, 8, tzinfo=ZoneInfo("Asia/Tokyo")))
    assert nothing_spent(queue)


async def test_transactional_messages_ignore_the_window(pool: AsyncConnectionPool, database_url: str) -> None:
    account = Account(database_url)
    await account.set_window("08:00", "18:00", "Africa/Nairobi")
    _, ids = await account.campaign([None], started=eat(22), category="transactional")
    deliver, queue, sender = build(pool, PinnedClock(eat(23)))
    await deliver_jobs(deliver, queue, ids)
    assert [m.id for m in sender.sent] == ids


async def test_a_stop_mid_campaign_stops_the_later_messages_and_start_restores_them(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    account = Account(database_url)
    campaign_id, ids = await account.campaign([None, None, None, None], started=eat(9))
    phones = account.phones
    clock = PinnedClock(eat(10))
    deliver, queue, sender = build(pool, clock)

    await deliver_jobs(deliver, queue, [ids[0]])
    await account.suppress(phones[0])  # the first customer, already sent to, texts STOP
    await account.suppress(phones[1])  # so does the second, before their message's turn
    await account.suppress(phones[2], "whatsapp")  # the third opts out of WhatsApp only
    await deliver_jobs(deliver, queue, [ids[1], ids[2]])
    await account.lift(phones[0])  # START
    await deliver_jobs(deliver, queue, [ids[3]])

    assert [m.id for m in sender.sent] == [ids[0], ids[2], ids[3]]
    found = await rows(pool, ids)
    assert [found[i][:2] for i in ids] == [("sent", 0), ("suppressed", 0), ("sent", 0), ("sent", 0)]
    assert nothing_spent(queue) and len(queue.acked) == 4
    assert await campaign_state(pool, campaign_id) == ("sent", True)


async def test_a_campaign_whose_every_message_is_suppressed_completes(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    account = Account(database_url)
    campaign_id, ids = await account.campaign([None, None], started=eat(9))
    for phone in account.phones:
        await account.suppress(phone)
    deliver, queue, sender = build(pool, PinnedClock(eat(10)))
    await deliver_jobs(deliver, queue, ids)
    assert not sender.sent and nothing_spent(queue)
    # nothing was sent: the campaign ends failed (the completion rule), its messages counted as suppressed
    assert await campaign_state(pool, campaign_id) == ("failed", True)


async def test_a_message_not_sent_within_its_validity_expires(pool: AsyncConnectionPool, database_url: str) -> None:
    account = Account(database_url)
    _, (on_time, late) = await account.campaign([None, None], started=eat(9), validity_hours=24)
    clock = PinnedClock(eat(8, 59, 59, day=2))
    deliver, queue, sender = build(pool, clock)

    await deliver_jobs(deliver, queue, [on_time])
    clock.now = eat(9, day=2)
    await deliver_jobs(deliver, queue, [late])

    assert [m.id for m in sender.sent] == [on_time]
    found = await rows(pool, [on_time, late])
    assert (found[on_time][0], found[late][:2]) == ("sent", ("expired", 0))
    assert nothing_spent(queue)


async def test_a_message_whose_window_opens_after_its_validity_expires_at_once(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    account = Account(database_url)
    await account.set_window("08:00", "18:00", "Africa/Nairobi")
    _, ids = await account.campaign([None], started=eat(17), validity_hours=2)
    deliver, queue, sender = build(pool, PinnedClock(eat(18, 30)))
    await deliver_jobs(deliver, queue, ids)
    assert not sender.sent
    assert (await rows(pool, ids))[ids[0]][:2] == ("expired", 0)
    assert nothing_spent(queue)


async def test_a_sender_window_narrower_than_the_accounts_defers_what_the_account_window_alone_would_send(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    account = Account(database_url)
    await account.set_window("08:00", "18:00", "Africa/Nairobi")
    morning_only = await account.sender(("09:00", "11:00", "Africa/Nairobi"))
    _, (held,) = await account.campaign([None], started=eat(11), sender_id=morning_only)
    _, (free,) = await account.campaign([None], started=eat(11))  # no sender of its own: the account's window only
    clock = PinnedClock(eat(12))
    deliver, queue, sender = build(pool, clock)

    await deliver_jobs(deliver, queue, [held, free])

    # 12:00 is inside the account's 08:00-18:00 but outside the sender's 09:00-11:00: it waits until 09:00 tomorrow
    # (not the account's 08:00), unpublished, its retry unspent
    assert [m.id for m in sender.sent] == [free]
    assert (await rows(pool, [held]))[held] == ("pending", 0, eat(9, day=2), False)
    assert nothing_spent(queue) and len(queue.acked) == 2

    clock.now = eat(8, 30, day=2)  # the account's window is open, the sender's not yet: deferred again, no loop
    await deliver_jobs(deliver, queue, [held])
    assert (await rows(pool, [held]))[held] == ("pending", 0, eat(9, day=2), False)
    clock.now = eat(9, day=2)
    await deliver_jobs(deliver, queue, [held])
    assert [m.id for m in sender.sent] == [free, held]
    assert (await rows(pool, [held]))[held][:2] == ("sent", 0)


async def test_the_default_senders_window_applies_to_a_campaign_naming_no_sender(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    account = Account(database_url)  # no account window at all: the sender's alone applies
    await account.sender(("09:00", "11:00", "Africa/Nairobi"), default=True)
    _, (message,) = await account.campaign(["Africa/Lagos"], started=eat(9))
    deliver, queue, sender = build(pool, PinnedClock(eat(12)))  # 10:00 in Lagos: open on the customer's clock
    await deliver_jobs(deliver, queue, [message])
    assert [m.id for m in sender.sent] == [message]


async def test_removing_the_sender_window_lets_its_messages_go(pool: AsyncConnectionPool, database_url: str) -> None:
    account = Account(database_url)
    await account.set_window("08:00", "18:00", "Africa/Nairobi")
    morning_only = await account.sender(("09:00", "11:00", "Africa/Nairobi"))
    _, (first, second) = await account.campaign([None, None], started=eat(11), sender_id=morning_only)
    clock = PinnedClock(eat(12))
    deliver, queue, sender = build(pool, clock)

    await deliver_jobs(deliver, queue, [first])
    assert (await rows(pool, [first]))[first][:3] == ("pending", 0, eat(9, day=2))
    await account.remove_sender_window(morning_only)
    await deliver_jobs(deliver, queue, [second, first])  # the account's window alone: open at 12:00

    assert sorted(m.id for m in sender.sent) == sorted([first, second])
    assert nothing_spent(queue)


async def test_transactional_messages_ignore_the_sender_window_too(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    account = Account(database_url)
    await account.set_window("08:00", "18:00", "Africa/Nairobi")
    morning_only = await account.sender(("09:00", "11:00", "Africa/Nairobi"))
    _, ids = await account.campaign([None], started=eat(22), category="transactional", sender_id=morning_only)
    deliver, queue, sender = build(pool, PinnedClock(eat(23)))
    await deliver_jobs(deliver, queue, ids)
    assert [m.id for m in sender.sent] == ids


async def test_windows_that_never_meet_expire_the_message_instead_of_deferring_it_forever(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    # the API refuses such a pair; rows written around it (or a race of two changes) must still end, not loop
    account = Account(database_url)
    await account.set_window("08:00", "18:00", "Africa/Nairobi")
    evening_only = await account.sender(("19:00", "21:00", "Africa/Nairobi"))
    _, ids = await account.campaign([None], started=eat(12), sender_id=evening_only, validity_hours=720)
    deliver, queue, sender = build(pool, PinnedClock(eat(12)))
    await deliver_jobs(deliver, queue, ids)
    assert not sender.sent
    assert (await rows(pool, ids))[ids[0]][:2] == ("expired", 0)
    assert nothing_spent(queue)


async def test_windows_open_together_only_after_the_validity_expire_the_message_at_once(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    account = Account(database_url)
    await account.set_window("08:00", "18:00", "Africa/Nairobi")
    morning_only = await account.sender(("09:00", "11:00", "Africa/Nairobi"))
    # sent at 11:00 with 20 hours' validity: the account's window opens at 08:00 (inside it), both only at 09:00
    _, ids = await account.campaign([None], started=eat(11), sender_id=morning_only, validity_hours=20)
    deliver, queue, sender = build(pool, PinnedClock(eat(12)))
    await deliver_jobs(deliver, queue, ids)
    assert not sender.sent
    assert (await rows(pool, ids))[ids[0]][:2] == ("expired", 0)


def decisions(registry: CollectorRegistry, decision: str, category: str = "promotional") -> float:
    value = registry.get_sample_value(
        "dispatch_compliance_decisions_total", {"decision": decision, "channel": "sms", "category": category}
    )
    assert value is not None  # every series exists from the start
    return value


async def test_the_gates_counters_move_when_it_suppresses_defers_expires_and_allows(
    pool: AsyncConnectionPool, database_url: str
) -> None:
    registry = CollectorRegistry()
    account = Account(database_url)
    await account.set_window("08:00", "18:00", "Africa/Nairobi")
    _, (suppressed, deferred, allowed) = await account.campaign([None, None, "Africa/Lagos"], started=eat(9))
    _, (expired,) = await account.campaign([None], started=eat(17), validity_hours=1)
    _, (urgent,) = await account.campaign([None], started=eat(9), category="transactional")
    await account.suppress(account.phones[0])
    deliver, queue, _ = build(pool, PinnedClock(eat(18, 30)), registry)
    assert all(decisions(registry, d) == 0 for d in ("allowed", "suppressed", "deferred_window", "expired"))

    # 18:30 EAT: the first customer opted out, the second's window (Nairobi) is closed, it is 16:30 in Lagos, the
    # one-hour campaign's validity ended at 18:00, and a transactional message ignores the window
    await deliver_jobs(deliver, queue, [suppressed, deferred, allowed, expired, urgent])

    assert decisions(registry, "suppressed") == 1
    assert decisions(registry, "deferred_window") == 1
    assert decisions(registry, "expired") == 1
    assert decisions(registry, "allowed") == 1
    assert decisions(registry, "allowed", "transactional") == 1
    assert decisions(registry, "deferred_window", "transactional") == 0


async def test_a_deferral_is_counted_with_how_long_it_waits(pool: AsyncConnectionPool, database_url: str) -> None:
    registry = CollectorRegistry()
    account = Account(database_url)
    await account.set_window("08:00", "18:00", "Africa/Nairobi")
    _, ids = await account.campaign([None], started=eat(17))
    deliver, queue, _ = build(pool, PinnedClock(eat(18)), registry)
    await deliver_jobs(deliver, queue, ids)

    assert decisions(registry, "deferred_window") == 1
    labels = {"channel": "sms"}
    assert registry.get_sample_value("dispatch_compliance_deferral_seconds_count", labels) == 1
    assert registry.get_sample_value("dispatch_compliance_deferral_seconds_sum", labels) == 14 * 3600  # 18:00 → 08:00
