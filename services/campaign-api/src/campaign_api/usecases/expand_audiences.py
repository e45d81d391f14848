"""Create the messages of accepted sends after their answer: chunk by chunk, each chunk and the cursor that records
it in one transaction, so a crash resumes where it stopped and nothing is created twice (the unique
(campaign_id, customer_id) key would refuse a second row anyway). Every campaign-api replica runs the loop; an
expansion is worked by one replica at a time (SKIP LOCKED), like the outbox relay's batches."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Final

import psycopg
from dispatch import outbound_messages

from campaign_api.repositories import audience_expansions, customers
from campaign_api.repositories.connection import Connection, Pool, account_transaction

log = logging.getLogger(__name__)

# a campaign in these statuses stops expanding: the messages not created yet never will be
ABANDONED: Final = frozenset({"sent", "failed", "cancelled"})


async def create_messages(conn: Connection, campaign_id: int, ids: Sequence[int], traceparent: str | None) -> int:
    """Create the pending rows of one chunk (ids ascending); a customer deleted since it was chosen is left out."""
    if not ids:
        return 0
    created = await outbound_messages.insert_pending(conn, campaign_id, ids, traceparent)
    if created is None:
        created = await outbound_messages.insert_pending(
            conn, campaign_id, await customers.existing_ids(conn, ids), traceparent
        )
    return created or 0


@dataclass(frozen=True, slots=True)
class ExpandAudiences:
    # the request pool (campaign_app): each chunk runs in its campaign's account, so RLS and DEFAULTs apply
    pool: Pool
    # the owner's pool: the cross-account list of unfinished expansions
    system_pool: Pool
    chunk_size: int = 5_000
    poll_interval_s: float = 0.25

    async def expand_chunk(self, account_id: int, campaign_id: int) -> bool:
        """Create the next chunk of one campaign's messages; True while more remain (and this replica holds it)."""
        async with account_transaction(self.pool, account_id) as conn:
            expansion = await audience_expansions.lock(conn, campaign_id)
            if expansion is None:
                return False
            if expansion.campaign_status == "paused":
                return False
            if expansion.campaign_status in ABANDONED:
                await audience_expansions.advance(conn, campaign_id, expansion.cursor_id, 0, finished=True)
                return False
            ids = await audience_expansions.next_ids(conn, campaign_id, expansion, self.chunk_size)
            created = await create_messages(conn, campaign_id, ids, expansion.traceparent)
            finished = len(ids) < self.chunk_size or ids[-1] >= expansion.max_customer_id
            cursor = ids[-1] if ids else expansion.cursor_id
            await audience_expansions.advance(conn, campaign_id, cursor, created, finished)
            if created:
                await outbound_messages.notify_outbox(conn, campaign_id)
            return not finished

    async def run_once(self) -> int:
        """One chunk of every unfinished expansion (oldest first, so large sends share the time); how many ran."""
        async with self.system_pool.connection() as conn:
            unfinished = await audience_expansions.list_unfinished(conn, 50)
        ran = 0
        for campaign_id, account_id in unfinished:
            ran += await self.expand_chunk(account_id, campaign_id)
        return ran

    async def run_until_done(self) -> None:
        """Expand until nothing is left (tests and the CLI; the service runs `forever`)."""
        while await self.run_once():
            pass

    async def forever(self) -> None:
        """Expand while there is work; otherwise poll every poll_interval_s. Database trouble waits and retries."""
        while True:
            try:
                if await self.run_once():
                    continue
            except (psycopg.Error, OSError) as exc:
                log.warning("audience expansion paused", extra={"reason": f"{type(exc).__name__}: {exc}"[:300]})
            await asyncio.sleep(self.poll_interval_s)


@contextlib.asynccontextmanager
async def expanding_audiences(expand: ExpandAudiences) -> AsyncIterator[None]:
    """Run the expansion loop for the lifetime of the block."""
    task = asyncio.create_task(expand.forever(), name="audience-expansion")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
