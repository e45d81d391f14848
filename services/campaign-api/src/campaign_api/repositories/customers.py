"""Every SQL statement on the customers table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from psycopg import sql

from campaign_api.domain import Customer, NewCustomer, PageRequest, Segment
from campaign_api.repositories.connection import Connection
from campaign_api.repositories.where_clauses import where_clause

COLUMNS: Final = "id, phone, first_name, last_name, location, preferred_product, created_at, time_zone"

# customers_account_phone_key decides duplicates (per account): no row back means the phone is taken
INSERT_CUSTOMER: Final = f"""
    INSERT INTO customers (phone, first_name, last_name, location, preferred_product, time_zone)
    VALUES (%(phone)s, %(first_name)s, %(last_name)s, %(location)s, %(preferred_product)s, %(time_zone)s)
    ON CONFLICT (account_id, phone) DO NOTHING
    RETURNING {COLUMNS}
"""

SELECT_CUSTOMER: Final = f"SELECT {COLUMNS} FROM customers WHERE id = %(id)s"

LIST_CUSTOMERS: Final = f"""
    SELECT {COLUMNS} FROM customers {{where}}
    ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s
"""
COUNT_CUSTOMERS: Final = "SELECT count(*) FROM customers {where}"
LIST_FILTERS: Final = {"before_id": "id < %(before_id)s"}

# a segment's customers as a SELECT of ids, for the dispatch package's set-based insert; served by the lower(...)
# expression indexes
SEGMENT_IDS: Final = "SELECT c.id FROM customers AS c {where}"
SEGMENT_FILTERS: Final = {
    "location": "lower(c.location) = lower(%(location)s)",
    "preferred_product": "lower(c.preferred_product) = lower(%(preferred_product)s)",
}


def customer_from_row(row: Sequence[Any]) -> Customer:
    """Build a Customer from the COLUMNS of a row."""
    return Customer(
        id=row[0],
        phone=row[1],
        first_name=row[2],
        last_name=row[3],
        location=row[4],
        preferred_product=row[5],
        created_at=row[6],
        time_zone=row[7],
    )


async def insert_if_phone_absent(conn: Connection, customer: NewCustomer) -> Customer | None:
    """Create the customer (phone already E.164); None when the phone belongs to someone else."""
    params = {
        "phone": customer.phone,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "location": customer.location,
        "preferred_product": customer.preferred_product,
        "time_zone": customer.time_zone,
    }
    cur = await conn.execute(INSERT_CUSTOMER, params)
    row = await cur.fetchone()
    return None if row is None else customer_from_row(row)


async def get(conn: Connection, customer_id: int) -> Customer | None:
    """One customer, or None."""
    cur = await conn.execute(SELECT_CUSTOMER, {"id": customer_id})
    row = await cur.fetchone()
    return None if row is None else customer_from_row(row)


async def list_page(conn: Connection, page: PageRequest) -> tuple[list[Customer], int]:
    """One page, newest first, and the size of the whole set (below before_id when given)."""
    params: dict[str, Any] = {"before_id": page.before_id, "limit": page.page_size, "offset": page.offset}
    where = where_clause(LIST_FILTERS, params)
    cur = await conn.execute(sql.SQL(COUNT_CUSTOMERS).format(where=where), params)
    counted = await cur.fetchone()
    total = int(counted[0]) if counted else 0
    cur = await conn.execute(sql.SQL(LIST_CUSTOMERS).format(where=where), params)
    return [customer_from_row(row) for row in await cur.fetchall()], total


# the audience size at acceptance and the id bound its expansion stops at (customers created later are left out)
SEGMENT_SIZE: Final = "SELECT count(*), coalesce(max(audience.id), 0) FROM ({audience}) AS audience(id)"
EXISTING_IDS: Final = "SELECT id FROM customers WHERE id = ANY(%(ids)s::bigint[]) ORDER BY id"


async def segment_size(conn: Connection, segment: Segment) -> tuple[int, int]:
    """How many customers the segment matches now, and the largest of their ids."""
    query, params = segment_ids(segment)
    cur = await conn.execute(sql.SQL(SEGMENT_SIZE).format(audience=query), params)
    row = await cur.fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def existing_ids(conn: Connection, ids: Sequence[int]) -> list[int]:
    """Those of the ids that name a customer of the transaction's account, ascending."""
    cur = await conn.execute(EXISTING_IDS, {"ids": list(ids)})
    return [int(r[0]) for r in await cur.fetchall()]


def segment_ids(segment: Segment) -> tuple[sql.Composable, dict[str, Any]]:
    """The SELECT of the segment's customer ids and its parameters (every customer for all=true)."""
    params: dict[str, Any] = {
        "location": None if segment.all_customers else segment.location,
        "preferred_product": None if segment.all_customers else segment.preferred_product,
    }
    # no fragment at all means every customer: the API accepts a segment only with all=true or a field
    return sql.SQL(SEGMENT_IDS).format(where=where_clause(SEGMENT_FILTERS, params)), params
