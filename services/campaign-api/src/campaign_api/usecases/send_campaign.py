"""Send a campaign: in one transaction, lock it, create its outbox rows, move it to sending, wake the relay."""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from dispatch import outbound_messages

from campaign_api.accounts import Caller
from campaign_api.domain import SENDABLE, Campaign, CampaignStatus, Segment, SendOutcome
from campaign_api.errors import (
    AudienceEmpty,
    AudienceRequired,
    CampaignNotDue,
    CampaignNotFound,
    IdempotencyKeyReused,
    InvalidInput,
    OptOutTextMissing,
    RecipientQuotaExceeded,
    UnknownCustomers,
)
from campaign_api.ports import Clock
from campaign_api.repositories import (
    accounts,
    audit_events,
    campaigns,
    compliance_settings,
    customers,
    idempotency_keys,
)
from campaign_api.repositories.connection import Connection, Pool, account_transaction

UNKNOWN_SAMPLE: Final = 20
# the recipient quota's rolling window
QUOTA_HOURS: Final = 24
# recorded as the campaign's status_reason when a due scheduled campaign is failed instead of sent
FAILURE_REASONS: Final[dict[type[InvalidInput], str]] = {
    AudienceRequired: "no audience was stored when the scheduled campaign fell due",
    AudienceEmpty: "the stored audience matched no customer when the scheduled campaign fell due",
}


def failure_reason(refusal: InvalidInput) -> str:
    """Why a due campaign whose stored audience was refused is failed; the refusal will not change by waiting."""
    known = FAILURE_REASONS.get(type(refusal))
    return known or f"the stored audience was refused when the scheduled campaign fell due: {refusal}"[:500]


def request_hash(campaign_id: int, customer_ids: Sequence[int] | None) -> str:
    """A fingerprint of what was asked, so a key reused for another request is caught (ids packed, not joined)."""
    digest = hashlib.sha256(f"send:{campaign_id}:".encode())
    digest.update(b"stored-audience" if customer_ids is None else array("q", customer_ids).tobytes())
    return digest.hexdigest()


def answer_body(outcome: SendOutcome) -> dict[str, Any]:
    """The answer as it is stored for replay."""
    return {
        "campaign_id": outcome.campaign_id,
        "messages_queued": outcome.messages_queued,
        "status": outcome.status.value,
        "suppressed": outcome.suppressed,
    }


@dataclass(frozen=True, slots=True)
class SendCampaign:
    pool: Pool
    # the owner's cross-account pool: finds the account of a campaign the scheduler's system key sends
    system_pool: Pool
    clock: Clock
    idempotency_ttl_hours: int = 24

    async def account_for(self, caller: Caller, campaign_id: int) -> int:
        """The account the send runs in: the caller's, or for the system key the campaign's own."""
        if not caller.is_system:
            return caller.account
        async with self.system_pool.connection() as conn:
            account_id = await campaigns.account_of(conn, campaign_id)
        if account_id is None:
            raise CampaignNotFound(campaign_id)
        return account_id

    async def __call__(
        self,
        caller: Caller,
        campaign_id: int,
        customer_ids: Sequence[int] | None,
        *,
        traceparent: str | None = None,
        idempotency_key: str | None = None,
    ) -> SendOutcome:
        """Queue one message per customer (the ids given, or the stored audience) and answer without sending."""
        failure: InvalidInput | None = None
        account_id = await self.account_for(caller, campaign_id)
        async with account_transaction(self.pool, account_id) as conn:
            # every send of this campaign, keyed or not, queues behind this lock: exactly one of two wins
            campaign = await campaigns.lock(conn, campaign_id)
            if campaign is None:
                raise CampaignNotFound(campaign_id)
            scope, fingerprint = f"send:{campaign_id}", request_hash(campaign_id, customer_ids)
            if idempotency_key is not None:
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
                        suppressed=int(body.get("suppressed", 0)),
                    )
            if caller.is_system and campaign.status in SENDABLE and not campaign.is_due(self.clock()):
                # the system key may send a campaign only when its schedule says so
                raise CampaignNotDue(campaign_id)
            try:
                audience = campaign.audience_to_send(customer_ids)
                await self.carries_opt_out(conn, campaign)
                queued = await self.queue_messages(conn, campaign, audience, traceparent)
                suppressed = await self.count_suppressed(conn, campaign, audience, queued)
                await self.within_quota(conn, account_id, queued)
                campaign.send(queued)
            except InvalidInput as exc:
                # the stored audience was refused (nobody, unknown ids) and the time has passed (the scheduler's
                # case): no later tick can change that, so fail the campaign for good, with the reason, and commit
                # that. A send naming customer_ids, or of a campaign not yet due, changes nothing
                if customer_ids is None and campaign.fail_due(failure_reason(exc), self.clock()):
                    await campaigns.save(conn, campaign)
                failure = exc
            else:
                await campaigns.save(conn, campaign)
                await outbound_messages.notify_outbox(conn, campaign_id)
                outcome = SendOutcome(campaign_id, queued, campaign.status, campaign.channel, suppressed=suppressed)
                sent = {
                    "messages_queued": queued,
                    "audience": "stored" if customer_ids is None else "customer_ids",
                    "suppressed": suppressed,
                }
                await audit_events.record(conn, caller, "campaign.sent", "campaign", campaign_id, sent)
                if idempotency_key is not None:
                    await idempotency_keys.store(conn, scope, idempotency_key, fingerprint, answer_body(outcome))
        if failure is not None:
            raise failure
        return outcome

    async def within_quota(self, conn: Connection, account_id: int, queued: int) -> None:
        """Refuse (429, rolling the whole send back) when the account's recipients of the last 24 hours, this send
        included, pass its recipients_per_day; the account's quota lock makes concurrent sends count one by one."""
        if queued == 0:
            return
        quota = await accounts.lock_recipient_quota(conn, account_id)
        used = await outbound_messages.count_queued_since(conn, QUOTA_HOURS)
        if used > quota:
            raise RecipientQuotaExceeded(quota, used - queued, queued)

    async def carries_opt_out(self, conn: Connection, campaign: Campaign) -> None:
        """A campaign created before the account required the opt-out instruction is held to it when sent."""
        settings = await compliance_settings.get(conn)
        missing = settings.missing_opt_out(campaign.base_template, campaign.channel, campaign.category)
        if missing is not None:
            raise OptOutTextMissing("base_template", missing)

    async def count_suppressed(
        self, conn: Connection, campaign: Campaign, audience: Sequence[int] | Segment, queued: int
    ) -> int:
        """How many of the audience the insert left out because they opted out (the insert filters them itself)."""
        if isinstance(audience, Segment):
            query, params = customers.segment_ids(audience)
            return await outbound_messages.count_suppressed(conn, campaign.id, query, params)
        # a draft or scheduled campaign has no message yet and an unknown id aborts the insert, so every distinct id
        # the insert skipped was a suppressed one: no second pass over 100,000 ids to count them
        return len(set(audience)) - queued

    async def queue_messages(
        self, conn: Connection, campaign: Campaign, audience: Sequence[int] | Segment, traceparent: str | None
    ) -> int:
        """Insert the pending rows in one statement; unknown ids abort the whole transaction."""
        if isinstance(audience, Segment):
            query, params = customers.segment_ids(audience)
            return await outbound_messages.insert_pending_from_query(conn, campaign.id, query, params, traceparent)
        queued = await outbound_messages.insert_pending(conn, campaign.id, audience, traceparent)
        if queued is None:
            count, sample = await outbound_messages.find_unknown_customers(conn, audience, UNKNOWN_SAMPLE)
            raise UnknownCustomers(count, sample)
        return queued
