"""Every SQL statement on the campaigns table."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Final

from dispatch.lifecycle import Category, Channel
from psycopg import sql
from psycopg.types.json import Jsonb

from campaign_api.domain import (
    Audience,
    Campaign,
    CampaignStats,
    CampaignStatus,
    CampaignSummary,
    CampaignUsage,
    DueCampaign,
    ExpansionProgress,
    NewCampaign,
    PageRequest,
    Segment,
    Waiting,
)
from campaign_api.repositories.connection import Connection
from campaign_api.repositories.where_clauses import where_clause

COLUMNS: Final = (
    "id, name, channel, status, base_template, scheduled_at, created_at, audience, status_reason, sender_id,"
    " category, validity_hours"
)

INSERT_CAMPAIGN: Final = f"""
    INSERT INTO campaigns (name, channel, status, base_template, scheduled_at, audience, sender_id, category,
                           validity_hours)
    VALUES (%(name)s, %(channel)s, %(status)s, %(base_template)s, %(scheduled_at)s, %(audience)s, %(sender_id)s,
            %(category)s, %(validity_hours)s)
    RETURNING {COLUMNS}
"""

# the seed's natural key is the name: loading the seed twice creates nothing new
INSERT_CAMPAIGN_IF_NAME_ABSENT: Final = f"""
    INSERT INTO campaigns (name, channel, status, base_template, scheduled_at, audience, sender_id, category,
                           validity_hours)
    SELECT %(name)s, %(channel)s, %(status)s, %(base_template)s, %(scheduled_at)s, %(audience)s, %(sender_id)s,
           %(category)s, %(validity_hours)s
    WHERE NOT EXISTS (SELECT 1 FROM campaigns WHERE name = %(name)s)
    RETURNING {COLUMNS}
"""

SELECT_ID_BY_NAME: Final = "SELECT id FROM campaigns WHERE name = %(name)s ORDER BY id LIMIT 1"

SELECT_CAMPAIGN: Final = f"SELECT {COLUMNS} FROM campaigns WHERE id = %(id)s"

# the detail view in one statement: the stats, segments and costs from the counters migration 0013 keeps
# (campaign_message_counts, 0018: totals plus the deltas not yet folded, a handful of rows however many messages),
# the progress of an expansion still creating messages, and the messages waiting for a send window (the campaign's
# unpublished rows whose not_before lies ahead, served by outbound_messages_waiting_idx; a paused campaign's parked
# rows, at 'infinity', wait for no window)
SELECT_CAMPAIGN_WITH_STATS: Final = """
    SELECT c.id, c.name, c.channel, c.status, c.base_template, c.scheduled_at, c.created_at, c.audience,
           c.status_reason, c.sender_id, c.category, c.validity_hours,
           s.statuses, s.counts, e.audience_size, e.created, e.finished_at IS NOT NULL, w.waiting, w.until
    FROM campaigns AS c
    CROSS JOIN LATERAL (
        SELECT array_agg(t.status) AS statuses, array_agg(t.n) AS counts
        FROM (
            SELECT u.status, sum(u.n)::bigint AS n
            FROM campaign_message_counts(c.id) AS u
            GROUP BY u.status
        ) AS t
    ) AS s
    LEFT JOIN audience_expansions AS e ON e.campaign_id = c.id
    CROSS JOIN LATERAL (
        SELECT count(*) AS waiting, max(m.not_before) AS until
        FROM outbound_messages AS m
        WHERE m.campaign_id = c.id AND m.published_at IS NULL AND m.not_before > now() AND m.status = 'pending'
          AND m.not_before <> 'infinity'
    ) AS w
    WHERE c.id = %(id)s
"""

# the sending campaigns whose messages go through a sender: those naming it, and (when it is its channel's default)
# those naming none
SENDING_THROUGH: Final = """
    SELECT id FROM campaigns
    WHERE status = 'sending'
      AND (sender_id = %(sender_id)s OR (sender_id IS NULL AND %(is_default)s AND channel = %(channel)s))
"""

# the send's row lock: a concurrent send, edit or cancel of the same campaign waits here, then sees the new state
LOCK_CAMPAIGN: Final = f"SELECT {COLUMNS} FROM campaigns WHERE id = %(id)s FOR UPDATE"

# the aggregate's state after a use case changed it, written back under the row lock the caller holds; the SET's
# right-hand `status` is the row's old value, so each timestamp is stamped by the transition that reaches it
SAVE_CAMPAIGN: Final = f"""
    UPDATE campaigns
    SET name = %(name)s, base_template = %(base_template)s, scheduled_at = %(scheduled_at)s,
        audience = %(audience)s, status = %(status)s, status_reason = %(status_reason)s, sender_id = %(sender_id)s,
        category = %(category)s, validity_hours = %(validity_hours)s,
        sending_started_at = CASE WHEN %(status)s = 'sending' AND status <> 'sending'
                                  THEN now() ELSE sending_started_at END,
        completed_at = CASE WHEN %(status)s IN ('sent', 'failed') AND status NOT IN ('sent', 'failed')
                            THEN now() ELSE completed_at END
    WHERE id = %(id)s
    RETURNING {COLUMNS}
"""

LIST_CAMPAIGNS: Final = """
    SELECT id, name, channel, status, created_at, category FROM campaigns {where}
    ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s
"""
LIST_FILTERS: Final = {
    "channel": "channel = %(channel)s",
    "status": "status = %(status)s",
    "before_id": "id < %(before_id)s",
}

# total_count from the counters of migration 0013: the account's campaigns by (channel, status, bucket = id >> 12),
# folded totals plus deltas, so a million campaigns cost a few hundred rows; with before_id the whole buckets below
# the bound's come from the counters and the rest (at most 4,096 ids) from the list's own index
COUNT_CAMPAIGNS: Final = """
    SELECT coalesce((
        SELECT sum(n) FROM (
            SELECT channel, status, bucket, n FROM campaign_counts
            WHERE account_id = current_setting('app.account_id')::bigint
            UNION ALL
            SELECT channel, status, bucket, n FROM campaign_count_deltas
            WHERE account_id = current_setting('app.account_id')::bigint
        ) AS counted {counter_where}
    ), 0) + (
        SELECT count(*) FROM campaigns {partial_where}
    )
"""
COUNTER_FILTERS: Final = {
    "channel": "channel = %(channel)s",
    "status": "status = %(status)s",
    "before_id": "bucket < (%(before_id)s::bigint >> 12)",
}
# only with before_id: the ids of the bound's own bucket below the bound (without it, 'id < 0' counts nothing)
PARTIAL_FILTERS: Final = {
    "channel": "channel = %(channel)s",
    "status": "status = %(status)s",
    "bucket_start": "id >= %(bucket_start)s",
    "partial_end": "id < %(partial_end)s",
}

# the account a campaign belongs to, for the scheduler's system key (run over the owner's cross-account pool)
SELECT_ACCOUNT_OF: Final = "SELECT account_id FROM campaigns WHERE id = %(id)s"

# served by campaigns_due_idx (partial on status = 'scheduled'); under an account's RLS only its own, over the
# owner's pool (the system key) every account's
LIST_DUE: Final = """
    SELECT id, name, scheduled_at FROM campaigns
    WHERE status = 'scheduled' AND scheduled_at <= now()
    ORDER BY scheduled_at, id LIMIT %(limit)s
"""


def audience_json(audience: Audience | None) -> Jsonb | None:
    """The audience column's JSON shape."""
    if audience is None:
        return None
    if audience.customer_ids is not None:
        return Jsonb({"customer_ids": list(audience.customer_ids)})
    if audience.segment_id is not None:
        return Jsonb({"segment_id": audience.segment_id})
    segment = audience.segment or Segment(all_customers=True)
    if segment.all_customers:
        return Jsonb({"segment": {"all": True}})
    fields = {"location": segment.location, "preferred_product": segment.preferred_product}
    return Jsonb({"segment": {name: value for name, value in fields.items() if value is not None}})


def audience_from_json(value: Any) -> Audience | None:
    """Read the audience column back."""
    if not isinstance(value, dict):
        return None
    if "customer_ids" in value:
        return Audience(customer_ids=tuple(int(i) for i in value["customer_ids"]))
    if "segment_id" in value:
        return Audience(segment_id=int(value["segment_id"]))
    segment = value.get("segment") or {}
    return Audience(
        segment=Segment(
            all_customers=bool(segment.get("all", False)),
            location=segment.get("location"),
            preferred_product=segment.get("preferred_product"),
        )
    )


def campaign_from_row(row: Sequence[Any], stats: CampaignStats | None = None) -> Campaign:
    """Build a Campaign from the COLUMNS of a row."""
    return Campaign(
        id=row[0],
        name=row[1],
        channel=Channel(row[2]),
        status=CampaignStatus(row[3]),
        base_template=row[4],
        scheduled_at=row[5],
        created_at=row[6],
        audience=audience_from_json(row[7]),
        status_reason=row[8],
        sender_id=row[9],
        category=Category(row[10]),
        validity_hours=int(row[11]),
        stats=stats,
    )


def insert_params(campaign: NewCampaign, status: CampaignStatus) -> dict[str, Any]:
    """The parameters of both insert statements."""
    return {
        "name": campaign.name,
        "channel": campaign.channel.value,
        "status": status.value,
        "base_template": campaign.base_template,
        "scheduled_at": campaign.scheduled_at,
        "audience": audience_json(campaign.audience),
        "sender_id": campaign.sender_id,
        "category": campaign.category.value,
        "validity_hours": campaign.validity_hours,
    }


async def insert(conn: Connection, campaign: NewCampaign, status: CampaignStatus) -> Campaign:
    """Create a campaign in the given status."""
    cur = await conn.execute(INSERT_CAMPAIGN, insert_params(campaign, status))
    row = await cur.fetchone()
    assert row is not None  # INSERT ... RETURNING always returns the row
    return campaign_from_row(row)


async def insert_if_name_absent(conn: Connection, campaign: NewCampaign, status: CampaignStatus) -> int:
    """Create the campaign unless one with its name exists; return the id either way."""
    cur = await conn.execute(INSERT_CAMPAIGN_IF_NAME_ABSENT, insert_params(campaign, status))
    row = await cur.fetchone()
    if row is not None:
        return int(row[0])
    cur = await conn.execute(SELECT_ID_BY_NAME, {"name": campaign.name})
    found = await cur.fetchone()
    assert found is not None  # the NOT EXISTS above saw it
    return int(found[0])


async def get(conn: Connection, campaign_id: int) -> Campaign | None:
    """One campaign without stats, or None."""
    cur = await conn.execute(SELECT_CAMPAIGN, {"id": campaign_id})
    row = await cur.fetchone()
    return None if row is None else campaign_from_row(row)


async def get_with_stats(conn: Connection, campaign_id: int) -> Campaign | None:
    """One campaign with its message counts by status (and its expansion's progress while it runs), or None."""
    cur = await conn.execute(SELECT_CAMPAIGN_WITH_STATS, {"id": campaign_id})
    row = await cur.fetchone()
    if row is None:
        return None
    counted = dict(zip(row[12] or [], (int(n) for n in row[13] or []), strict=True))
    campaign = campaign_from_row(row, CampaignStats.of(counted))
    campaign.usage = CampaignUsage.of(counted)
    if row[14] is not None:
        campaign.expansion = ExpansionProgress(audience_size=row[14], created=row[15], finished=row[16])
    campaign.waiting = Waiting(int(row[17]), row[18])
    return campaign


async def lock(conn: Connection, campaign_id: int) -> Campaign | None:
    """Lock the campaign row until the transaction ends; None when it does not exist."""
    cur = await conn.execute(LOCK_CAMPAIGN, {"id": campaign_id})
    row = await cur.fetchone()
    return None if row is None else campaign_from_row(row)


async def save(conn: Connection, campaign: Campaign) -> Campaign:
    """Write the aggregate back (the caller holds its row lock) and return it as stored."""
    cur = await conn.execute(
        SAVE_CAMPAIGN,
        {
            "id": campaign.id,
            "name": campaign.name,
            "base_template": campaign.base_template,
            "scheduled_at": campaign.scheduled_at,
            "audience": audience_json(campaign.audience),
            "status": campaign.status.value,
            "status_reason": campaign.status_reason,
            "sender_id": campaign.sender_id,
            "category": campaign.category.value,
            "validity_hours": campaign.validity_hours,
        },
    )
    row = await cur.fetchone()
    assert row is not None  # the caller locked the row, so it exists
    return campaign_from_row(row)


async def list_page(
    conn: Connection, page: PageRequest, channel: Channel | None, status: CampaignStatus | None
) -> tuple[list[CampaignSummary], int]:
    """One page, newest first, and the size of the whole filtered set (below before_id when given)."""
    params: dict[str, Any] = {
        "channel": channel.value if channel else None,
        "status": status.value if status else None,
        "before_id": page.before_id,
        "limit": page.page_size,
        "offset": page.offset,
    }
    count_query, list_query = list_statements(frozenset(name for name in LIST_FILTERS if params[name] is not None))
    # both sent before either is read: in pipeline mode (account_reading) they share one round trip
    counting = await conn.execute(count_query, count_params(params))
    cur = await conn.execute(list_query, params)
    counted = await counting.fetchone()
    total = int(counted[0]) if counted else 0
    items = [
        CampaignSummary(
            id=r[0],
            name=r[1],
            channel=Channel(r[2]),
            status=CampaignStatus(r[3]),
            created_at=r[4],
            category=Category(r[5]),
        )
        for r in await cur.fetchall()
    ]
    return items, total


@functools.cache
def list_statements(filters: frozenset[str]) -> tuple[bytes, bytes]:
    """The count and the page statements for the filters set (composed once per combination, not per request)."""
    params: dict[str, Any] = {name: 1 if name in filters else None for name in LIST_FILTERS}
    page = sql.SQL(LIST_CAMPAIGNS).format(where=where_clause(LIST_FILTERS, params))
    return count_statement(params).as_bytes(None), page.as_bytes(None)


def count_params(params: dict[str, Any]) -> dict[str, Any]:
    """The list's parameters and the bounds of the partial bucket (none without before_id)."""
    before_id = params["before_id"]
    bucket_start = None if before_id is None else (before_id >> 12) << 12
    return {**params, "bucket_start": bucket_start, "partial_end": 0 if before_id is None else before_id}


def count_statement(params: dict[str, Any]) -> sql.Composed:
    """COUNT_CAMPAIGNS with the WHERE of the counters and of the partial bucket for these filters."""
    return sql.SQL(COUNT_CAMPAIGNS).format(
        counter_where=where_clause(COUNTER_FILTERS, params),
        partial_where=where_clause(PARTIAL_FILTERS, count_params(params)),
    )


async def list_due(conn: Connection, limit: int) -> list[DueCampaign]:
    """Scheduled campaigns whose scheduled_at has passed, the longest-waiting first."""
    cur = await conn.execute(LIST_DUE, {"limit": limit})
    return [DueCampaign(id=r[0], name=r[1], scheduled_at=r[2]) for r in await cur.fetchall()]


async def account_of(conn: Connection, campaign_id: int) -> int | None:
    """The campaign's account, or None when there is no such campaign."""
    cur = await conn.execute(SELECT_ACCOUNT_OF, {"id": campaign_id})
    row = await cur.fetchone()
    return None if row is None else int(row[0])


# ---- operator controls: a campaign's pace, and campaigns sending again after a replay ---------------------------

SET_PACE: Final = "UPDATE campaigns SET pace_per_minute = %(pace)s WHERE id = %(id)s RETURNING status"
GET_PACE: Final = "SELECT pace_per_minute FROM campaigns WHERE id = %(id)s"

# failures went back to the outbox: a completed campaign is sending again, and completes again when they end
REOPEN: Final = """
    UPDATE campaigns SET status = 'sending', completed_at = NULL
    WHERE id = ANY(%(ids)s::bigint[]) AND status IN ('sent', 'failed')
"""


async def set_pace(conn: Connection, campaign_id: int, pace_per_minute: int | None) -> CampaignStatus | None:
    """Store the campaign's pace (None: as fast as the workers go); its status, or None when it does not exist."""
    cur = await conn.execute(SET_PACE, {"id": campaign_id, "pace": pace_per_minute})
    row = await cur.fetchone()
    return None if row is None else CampaignStatus(row[0])


async def get_pace(conn: Connection, campaign_id: int) -> tuple[bool, int | None]:
    """(the campaign exists, its pace per minute or None)."""
    cur = await conn.execute(GET_PACE, {"id": campaign_id})
    row = await cur.fetchone()
    return (row is not None, None if row is None else row[0])


async def reopen(conn: Connection, campaign_ids: Sequence[int]) -> None:
    """Move sent or failed campaigns back to sending (their failures are queued again)."""
    if campaign_ids:
        await conn.execute(REOPEN, {"ids": list(campaign_ids)})


async def sending_through(conn: Connection, sender_id: int, channel: Channel, is_default: bool) -> list[int]:
    """The account's sending campaigns whose messages go through that sender."""
    cur = await conn.execute(
        SENDING_THROUGH, {"sender_id": sender_id, "channel": channel.value, "is_default": is_default}
    )
    return [int(r[0]) for r in await cur.fetchall()]
