"""Saved segments (POST/GET /segments, GET /segments/{id}/count): named audiences checked against the account's
attribute declarations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from campaign_api.accounts import Caller
from campaign_api.attributes import check_segment
from campaign_api.domain import Segment
from campaign_api.errors import InvalidAttributes, SegmentExists, SegmentNotFound
from campaign_api.repositories import audit_events, customer_attributes, customers, segments
from campaign_api.repositories.connection import Connection, Pool, account_transaction
from campaign_api.repositories.segments import SavedSegment

MAX_LISTED: Final = 100


async def checked_segment(conn: Connection, segment: Segment, field: str) -> Segment:
    """The segment with its attribute conditions checked against the account's declarations (422 naming why)."""
    if not segment.attributes:
        return segment
    try:
        return check_segment(await customer_attributes.types_by_name(conn), segment)
    except ValueError as exc:
        raise InvalidAttributes(field, str(exc)) from exc


@dataclass(frozen=True, slots=True)
class SaveSegment:
    pool: Pool

    async def __call__(self, caller: Caller, name: str, segment: Segment) -> SavedSegment:
        """Save the segment under a name of the account's own."""
        async with account_transaction(self.pool, caller.account) as conn:
            checked = await checked_segment(conn, segment, "body.definition.attributes")
            saved = await segments.insert_if_absent(conn, name, checked)
            if saved is not None:
                await audit_events.record(conn, caller, "segment.created", "segment", saved.id, {"name": name})
        if saved is None:
            raise SegmentExists(name)
        return saved


@dataclass(frozen=True, slots=True)
class ListSegments:
    pool: Pool

    async def __call__(self, caller: Caller) -> list[SavedSegment]:
        """The account's newest segments."""
        async with account_transaction(self.pool, caller.account) as conn:
            return await segments.list_recent(conn, MAX_LISTED)


@dataclass(frozen=True, slots=True)
class CountSegment:
    pool: Pool

    async def __call__(self, caller: Caller, segment_id: int) -> int:
        """How many customers the saved segment has now (one set-based count)."""
        async with account_transaction(self.pool, caller.account) as conn:
            saved = await segments.get(conn, segment_id)
            if saved is None:
                raise SegmentNotFound(segment_id)
            return await customers.count_segment(conn, saved.segment)
