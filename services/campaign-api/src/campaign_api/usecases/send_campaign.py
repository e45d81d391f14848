"""Send a campaign: in one transaction, lock it, size and check its audience, create the first chunk of its outbox
rows and record the rest as an audience expansion (campaign_api.usecases.expand_audiences creates them after the
answer), move it to sending, wake the relay. The answer's messages_queued is the audience size at acceptance; its
expected segments come from the first messages rendered for their customers (a sample of at most 100, so their
cost does not grow with the audience)."""

from __future__ import annotations

import hashlib
import logging
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from dispatch import outbound_messages
from dispatch.lifecycle import Channel

from campaign_api.accounts import Caller
from campaign_api.domain import (
    SENDABLE,
    Campaign,
    CampaignStatus,
    SavedSegmentRef,
    Segment,
    SegmentEstimate,
    SendOutcome,
)
from campaign_api.errors import (
    AudienceEmpty,
    AudienceRequired,
    AudienceSegmentMissing,
    CampaignNotDue,
    CampaignNotFound,
    IdempotencyKeyReused,
    InvalidInput,
    InvalidTemplate,
    OptOutTextMissing,
    RecipientQuotaExceeded,
    TemplateServiceUnavailable,
    UnknownCustomers,
)
from campaign_api.ports import Clock, TemplateRenderer
from campaign_api.repositories import (
    accounts,
    audience_expansions,
    audit_events,
    campaigns,
    compliance_settings,
    customer_attributes,
    customers,
    idempotency_keys,
    segments,
)
from campaign_api.repositories.connection import Connection, Pool, account_transaction
from campaign_api.usecases.expand_audiences import create_messages

log = logging.getLogger(__name__)

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
        "expected_segments": outcome.segments.per_message,
        "expected_segments_total": outcome.segments.total,
        "expected_segments_sampled": outcome.segments.sampled,
    }


def stored_outcome(body: dict[str, Any], channel: Channel) -> SendOutcome:
    """A stored answer, replayed (one stored before the segment estimate existed answers it as unknown)."""
    return SendOutcome(
        int(body["campaign_id"]),
        int(body["messages_queued"]),
        CampaignStatus(body["status"]),
        channel,
        replayed=True,
        suppressed=int(body.get("suppressed", 0)),
        segments=SegmentEstimate(
            body.get("expected_segments"), body.get("expected_segments_total"), body.get("expected_segments_sampled", 0)
        ),
    )


@dataclass(frozen=True, slots=True)
class SendCampaign:
    pool: Pool
    # the owner's cross-account pool: finds the account of a campaign the scheduler's system key sends
    system_pool: Pool
    clock: Clock
    renderer: TemplateRenderer
    idempotency_ttl_hours: int = 24
    # messages created inside the request; the rest of the audience is created after the answer, in chunks this size
    chunk_size: int = 5_000
    # the expected segments: how many of the first messages are rendered, and how long template-svc may take
    estimate_sample: int = 100
    estimate_deadline_s: float = 0.5

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
                    return stored_outcome(stored.response_body, campaign.channel)
            if caller.is_system and campaign.status in SENDABLE and not campaign.is_due(self.clock()):
                # the system key may send a campaign only when its schedule says so
                raise CampaignNotDue(campaign_id)
            try:
                audience = await self.resolve(conn, campaign, campaign.audience_to_send(customer_ids))
                await self.carries_opt_out(conn, campaign)
                # the opted-out are left out by the inserts; the answer says how many, and they are not queued
                suppressed = await self.count_suppressed(conn, campaign, audience)
                queued = await self.queue_messages(conn, campaign, audience, traceparent, suppressed)
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
                # a campaign with a pace: each message waits for its slot (nothing happens without one)
                await outbound_messages.slot_paced(conn, campaign_id)
                await outbound_messages.notify_outbox(conn, campaign_id)
                segments = await self.estimate_segments(conn, campaign, queued)
                outcome = SendOutcome(
                    campaign_id, queued, campaign.status, campaign.channel, suppressed=suppressed, segments=segments
                )
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

    async def estimate_segments(self, conn: Connection, campaign: Campaign, queued: int) -> SegmentEstimate:
        """Render the first messages as the worker will (template-svc's facts) and scale their segments to the send.

        Inside the send's transaction, so a replayed Idempotency-Key answers the same figures; bounded by
        `estimate_deadline_s`, and a template-svc that does not answer leaves the figure unknown, never the send."""
        if campaign.channel is Channel.WHATSAPP:
            return SegmentEstimate.one_each(queued)
        sample = await customers.sample_of_campaign(conn, campaign.id, self.estimate_sample)
        names = await customer_attributes.names(conn)
        try:
            rendered = await self.renderer.render_batch(
                campaign.base_template, sample, campaign.channel, names, deadline_s=self.estimate_deadline_s
            )
        except (TemplateServiceUnavailable, InvalidTemplate) as exc:
            log.warning("expected segments unknown", extra={"campaign_id": campaign.id, "reason": str(exc)})
            return SegmentEstimate(None, None, 0)
        return SegmentEstimate.of([message.facts.segments for message in rendered], queued)

    async def within_quota(self, conn: Connection, account_id: int, queued: int) -> None:
        """Refuse (429, rolling the whole send back) when the account's recipients of the last 24 hours, this send
        included, pass its recipients_per_day; the account's quota lock makes concurrent sends count one by one.
        Recipients accepted and not created yet (expansions still running, this one's included) count too."""
        if queued == 0:
            return
        quota = await accounts.lock_recipient_quota(conn, account_id)
        used = await outbound_messages.count_queued_since(conn, QUOTA_HOURS)
        used += await audience_expansions.outstanding(conn)
        if used > quota:
            raise RecipientQuotaExceeded(quota, used - queued, queued)

    async def resolve(
        self, conn: Connection, campaign: Campaign, audience: Sequence[int] | Segment | SavedSegmentRef
    ) -> Sequence[int] | Segment:
        """A saved segment named by the audience becomes its filters, as they are now."""
        if not isinstance(audience, SavedSegmentRef):
            return audience
        saved = await segments.get(conn, audience.id)
        if saved is None:
            raise AudienceSegmentMissing(campaign.id, audience.id)
        return saved.segment

    async def carries_opt_out(self, conn: Connection, campaign: Campaign) -> None:
        """A campaign created before the account required the opt-out instruction is held to it when sent."""
        settings = await compliance_settings.get(conn)
        missing = settings.missing_opt_out(campaign.base_template, campaign.channel, campaign.category)
        if missing is not None:
            raise OptOutTextMissing("base_template", missing)

    async def count_suppressed(self, conn: Connection, campaign: Campaign, audience: Sequence[int] | Segment) -> int:
        """How many of the audience the inserts leave out because they opted out (they filter them themselves);
        counted before the messages exist, since the expansion creates most of them after the answer."""
        if isinstance(audience, Segment):
            query, params = customers.segment_ids(audience)
            return await outbound_messages.count_suppressed(conn, campaign.id, query, params)
        return await outbound_messages.count_suppressed(conn, campaign.id, audience)

    async def queue_messages(
        self,
        conn: Connection,
        campaign: Campaign,
        audience: Sequence[int] | Segment,
        traceparent: str | None,
        suppressed: int = 0,
    ) -> int:
        """Size the audience (unknown ids refuse the whole send), create its first chunk of pending rows and record
        the rest for the expansion runner; return the audience size, the `suppressed` (left out) not counted."""
        if isinstance(audience, Segment):
            size, max_id = await customers.segment_size(conn, audience)
            if size == 0:
                return 0
            query, params = customers.segment_ids(audience)
            size -= await outbound_messages.count_messaged(
                conn, campaign.id, audience=query, params=params, upto=max_id
            )
            size = max(0, size - suppressed)
            if size == 0:
                return 0
            ids = None
            chunk = await audience_expansions.segment_chunk(conn, audience, 0, max_id, self.chunk_size)
        else:
            ids = sorted(set(audience))
            if not ids:
                return 0
            count, sample = await outbound_messages.find_unknown_customers(conn, ids, UNKNOWN_SAMPLE)
            if count:
                raise UnknownCustomers(count, sample)
            size = len(ids) - await outbound_messages.count_messaged(conn, campaign.id, customer_ids=ids)
            size = max(0, size - suppressed)
            if size == 0:
                return 0
            max_id, chunk = ids[-1], ids[: self.chunk_size]
        first = await create_messages(conn, campaign.id, chunk, traceparent)
        cursor = max_id if len(chunk) < self.chunk_size else chunk[-1]
        await audience_expansions.insert(
            conn,
            campaign.id,
            audience if ids is None else ids,
            max_customer_id=max_id,
            cursor_id=cursor,
            audience_size=size,
            created=first,
            traceparent=traceparent,
        )
        return size
