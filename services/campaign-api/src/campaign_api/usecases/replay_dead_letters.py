"""Send dead letters again: back to pending with their retries reset, through the outbox, recorded in the audit
log; afterwards their jobs leave the broker's DLQ. Also the retry of one campaign's failures."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from dispatch import outbound_messages

from campaign_api.accounts import Caller
from campaign_api.errors import CampaignNotFound, ReplayFilterRequired
from campaign_api.ports import DeadLetterQueue
from campaign_api.repositories import audit_events, campaigns
from campaign_api.repositories.connection import Connection, Pool, account_transaction

log = logging.getLogger(__name__)

# messages one call sends again at most; a caller that got this many calls again for the rest
MAX_REPLAY: Final = 100_000


@dataclass(frozen=True, slots=True)
class ReplaySelection:
    """Which dead letters: every filter given must match (at least one is required)."""

    message_ids: Sequence[int] | None = None
    campaign_id: int | None = None
    reason: str | None = None

    @property
    def empty(self) -> bool:
        return self.message_ids is None and self.campaign_id is None and self.reason is None


@dataclass(frozen=True, slots=True)
class Replayed:
    """What a replay did: the messages queued again (ids in order), their campaigns, and the DLQ jobs removed
    (None when the broker did not answer; the database is right either way, the next replay prunes the DLQ)."""

    message_ids: list[int]
    campaign_ids: list[int]
    removed_from_dlq: int | None


async def _requeue(
    conn: Connection, caller: Caller, action: str, target_id: int | None, filters: dict[str, Any], dead_only: bool
) -> tuple[list[int], list[int]]:
    requeued = await outbound_messages.requeue_failed(conn, limit=MAX_REPLAY, dead_only=dead_only, **filters)
    message_ids = sorted(m for m, _ in requeued)  # in id order: RETURNING follows the plan, not the ids
    campaign_ids = sorted({c for _, c in requeued})
    if requeued:
        await campaigns.reopen(conn, campaign_ids)
        for campaign_id in campaign_ids:
            await outbound_messages.slot_paced(conn, campaign_id)
        await outbound_messages.notify_outbox(conn, campaign_ids[0])
    shown = {k: v if k != "ids" else len(v) for k, v in filters.items() if v is not None}
    await audit_events.record(
        conn,
        caller,
        action,
        "campaign" if target_id else "dead_letters",
        target_id,
        {"requeued": len(message_ids), "campaigns": campaign_ids[:100], **shown},
    )
    return message_ids, campaign_ids


@dataclass(frozen=True, slots=True)
class ReplayDeadLetters:
    pool: Pool
    dead_letter_queue: DeadLetterQueue

    async def __call__(self, caller: Caller, selection: ReplaySelection) -> Replayed:
        """Queue the selected dead letters of the caller's account again, each once however often it is asked."""
        if selection.empty:
            raise ReplayFilterRequired
        filters = {"ids": selection.message_ids, "campaign_id": selection.campaign_id, "reason": selection.reason}
        async with account_transaction(self.pool, caller.account) as conn:
            message_ids, campaign_ids = await _requeue(
                conn, caller, "dead_letters.replayed", selection.campaign_id, filters, dead_only=True
            )
        return Replayed(message_ids, campaign_ids, await self.dead_letter_queue.prune())


@dataclass(frozen=True, slots=True)
class RetryFailed:
    pool: Pool
    dead_letter_queue: DeadLetterQueue

    async def __call__(self, caller: Caller, campaign_id: int) -> Replayed:
        """Queue the campaign's failed messages again (never its suppressed, expired or cancelled ones); a second
        call queues nothing until some fail again. 409 for a campaign that never sent, or was cancelled."""
        async with account_transaction(self.pool, caller.account) as conn:
            campaign = await campaigns.get(conn, campaign_id)
            if campaign is None:
                raise CampaignNotFound(campaign_id)
            campaign.check_retryable()
            message_ids, campaign_ids = await _requeue(
                conn, caller, "campaign.failures_retried", campaign_id, {"campaign_id": campaign_id}, dead_only=False
            )
        return Replayed(message_ids, campaign_ids, await self.dead_letter_queue.prune())
