"""Every SQL statement on segments (saved audiences), and a segment's JSON shape."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from psycopg.types.json import Jsonb

from campaign_api.domain import AttributeFilter, Segment
from campaign_api.repositories.connection import Connection

COLUMNS: Final = "id, name, definition, created_at"
# segments_account_name_key decides duplicates: no row back means the name is taken
INSERT_SEGMENT: Final = f"""
    INSERT INTO segments (name, definition) VALUES (%(name)s, %(definition)s)
    ON CONFLICT (account_id, name) DO NOTHING
    RETURNING {COLUMNS}
"""
SELECT_SEGMENT: Final = f"SELECT {COLUMNS} FROM segments WHERE id = %(id)s"
# served by segments_account_id_key
LIST_SEGMENTS: Final = f"SELECT {COLUMNS} FROM segments ORDER BY id DESC LIMIT %(limit)s"


@dataclass(frozen=True, slots=True)
class SavedSegment:
    """A named, reusable audience."""

    id: int
    name: str
    segment: Segment
    created_at: datetime


def segment_json(segment: Segment) -> dict[str, Any]:
    """The segment as stored (the API's definition shape, without empty members)."""
    if segment.all_customers:
        return {"all": True}
    shape: dict[str, Any] = {
        name: value
        for name, value in (("location", segment.location), ("preferred_product", segment.preferred_product))
        if value is not None
    }
    if segment.attributes:
        shape["attributes"] = [
            {
                key: value
                for key, value in (
                    ("name", condition.name),
                    ("equals", condition.equals),
                    ("one_of", list(condition.one_of) if condition.one_of is not None else None),
                    ("min", condition.min),
                    ("max", condition.max),
                )
                if value is not None
            }
            for condition in segment.attributes
        ]
    return shape


def segment_from_json(value: dict[str, Any]) -> Segment:
    """Read a stored segment back."""
    return Segment(
        all_customers=bool(value.get("all", False)),
        location=value.get("location"),
        preferred_product=value.get("preferred_product"),
        attributes=tuple(
            AttributeFilter(
                name=condition["name"],
                equals=condition.get("equals"),
                one_of=tuple(condition["one_of"]) if "one_of" in condition else None,
                min=condition.get("min"),
                max=condition.get("max"),
            )
            for condition in value.get("attributes", ())
        ),
    )


def saved_from_row(row: Sequence[Any]) -> SavedSegment:
    return SavedSegment(id=row[0], name=row[1], segment=segment_from_json(row[2]), created_at=row[3])


async def insert_if_absent(conn: Connection, name: str, segment: Segment) -> SavedSegment | None:
    """Save the segment; None when the account has one of that name."""
    cur = await conn.execute(INSERT_SEGMENT, {"name": name, "definition": Jsonb(segment_json(segment))})
    row = await cur.fetchone()
    return None if row is None else saved_from_row(row)


async def get(conn: Connection, segment_id: int) -> SavedSegment | None:
    """One saved segment, or None."""
    cur = await conn.execute(SELECT_SEGMENT, {"id": segment_id})
    row = await cur.fetchone()
    return None if row is None else saved_from_row(row)


async def list_recent(conn: Connection, limit: int) -> list[SavedSegment]:
    """The account's segments, newest first."""
    cur = await conn.execute(LIST_SEGMENTS, {"limit": limit})
    return [saved_from_row(row) for row in await cur.fetchall()]
