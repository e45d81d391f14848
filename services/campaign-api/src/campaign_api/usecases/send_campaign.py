"""Send a campaign: in one transaction, lock it, create its outbox rows, move it to sending, wake the relay."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from campaign_api.domain import SENDABLE, Campaign, CampaignStatus, SendOutcome
from campaign_api.errors import (
    AudienceEmpty,
    AudienceRequired,
    CampaignNotFound,
    CampaignNotSendable,
    DispatchError,
    IdempotencyKeyReused,
    UnknownCustomers,
)
from campaign_api.ports import Clock
from campaign_api.repositories import campaigns, idempotency_keys, outbound_messages
from campaign_api.repositories.connection import Connection, Pool

ACCEPTED: Final = 202
UNKNOWN_SAMPLE: Final = 20
# recorded as the campaign's status_reason when a due scheduled campaign is failed instead of sent
NO_AUDIENCE_REASON: Final = "no audience was stored when the scheduled campaign fell due"
EMPTY_AUDIENCE_REASON: Final = "the stored audience matched no customer when the scheduled campaign fell due"


def request_hash(campaign_id: int, customer_ids: Sequence[int] | None) -> str:
    """A fingerprint of what was asked, so a key reused for another request is caught."""
    text = "stored-audience" if customer_ids is None else ",".join(map(str, customer_ids))
    return hashlib.sha256(f"send:{campaign_id}:{text}".encode()).hexdigest()


def answer_body(outcome: SendOutcome) -> dict[str, Any]:
    """The answer as it is stored for replay."""
    return {
        "campaign_id": outcome.campaign_id,
        "messages_queued": outcome.messages_queued,
        "status": outcome.status.value,
    }


@dataclass(frozen=True, slots=True)
class SendCampaign:
    pool: Pool
    clock: Clock
    idempotency_ttl_hours: int = 24

    async def __call__(
        self,
        campaign_id: int,
        customer_ids: Sequence[int] | None,
        *,
        traceparent: str | None = None,
        idempotency_key: str | None = None,
    ) -> SendOutcome:
        """Queue one message per customer (the ids given, or the stored audience) and answer without sending."""
        failure: DispatchError | None = None
        async with self.pool.connection() as conn, conn.transaction():
            # every send of this campaign, keyed or not, queues behind this lock: exactly one of two wins
            campaign = await campaigns.lock(conn, campaign_id)
            if campaign is None:
                raise CampaignNotFound(campaign_id)
            scope, fingerprint = f"send:{campaign_id}", request_hash(campaign_id, customer_ids)
            if idempotency_key is not None:
                await idempotency_keys.purge_expired(conn, self.idempotency_ttl_hours)
                stored = await idempotency_keys.find(conn, scope, idempotency_key, self.idempotency_ttl_hours)
                if stored is not None:
                    if stored.request_hash != fingerprint:
                        raise IdempotencyKeyReused(idempotency_key)
                    body = stored.response_body
                    return SendOutcome(
                        int(body["campaign_id"]),
                        int(body["messages_queued"]),
                        CampaignStatus(body["status"]),
                        campaign.channel,
                        replayed=True,
                    )
            if campaign.status not in SENDABLE:
                raise CampaignNotSendable(campaign_id, campaign.status)
            reason = ""
            if customer_ids is None and campaign.audience is None:
                failure, reason = AudienceRequired(campaign_id), NO_AUDIENCE_REASON
            elif (queued := await self.queue_messages(conn, campaign, customer_ids, traceparent)) == 0:
                # moving to sending with no message would leave the campaign there forever: refuse instead
                failure, reason = AudienceEmpty(campaign_id), EMPTY_AUDIENCE_REASON
            else:
                await campaigns.mark_sending(conn, campaign_id)
                await outbound_messages.notify_outbox(conn, campaign_id)
                outcome = SendOutcome(campaign_id, queued, CampaignStatus.SENDING, campaign.channel)
                if idempotency_key is not None:
                    await idempotency_keys.store(
                        conn, scope, idempotency_key, fingerprint, ACCEPTED, answer_body(outcome)
                    )
            if failure is not None and customer_ids is None and self.is_due(campaign):
                # a send to the stored audience found nobody and the time has passed (the scheduler's case): fail
                # the campaign for good, with the reason, rather than be offered it on every tick. A send naming
                # customer_ids, or of a campaign not yet due, changes nothing
                await campaigns.mark_failed(conn, campaign_id, reason)
        if failure is not None:
            raise failure
        return outcome

    def is_due(self, campaign: Campaign) -> bool:
        """A scheduled campaign whose time has come."""
        return (
            campaign.status == CampaignStatus.SCHEDULED
            and campaign.scheduled_at is not None
            and campaign.scheduled_at <= self.clock()
        )

    async def queue_messages(
        self, conn: Connection, campaign: Campaign, customer_ids: Sequence[int] | None, traceparent: str | None
    ) -> int:
        """Insert the pending rows in one statement; unknown ids abort the whole transaction."""
        if customer_ids is None and campaign.audience is not None and campaign.audience.segment is not None:
            return await outbound_messages.insert_pending_for_segment(
                conn, campaign.id, campaign.audience.segment, traceparent
            )
        if customer_ids is None:
            assert campaign.audience is not None and campaign.audience.customer_ids is not None
            customer_ids = campaign.audience.customer_ids
        queued = await outbound_messages.insert_pending(conn, campaign.id, customer_ids, traceparent)
        if queued is None:
            count, sample = await outbound_messages.find_unknown_customers(conn, customer_ids, UNKNOWN_SAMPLE)
            raise UnknownCustomers(count, sample)
        return queued
