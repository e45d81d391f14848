"""Every SQL statement on the customers table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from psycopg import sql
from psycopg.types.json import Jsonb

from campaign_api.domain import AttributeFilter, Customer, NewCustomer, PageRequest, Segment
from campaign_api.repositories.connection import Connection
from campaign_api.repositories.where_clauses import where_clause

COLUMNS: Final = "id, phone, first_name, last_name, location, preferred_product, created_at, time_zone, attributes"

# customers_account_phone_key decides duplicates (per account): no row back means the phone is taken
INSERT_CUSTOMER: Final = f"""
    INSERT INTO customers (phone, first_name, last_name, location, preferred_product, time_zone, attributes)
    VALUES (%(phone)s, %(first_name)s, %(last_name)s, %(location)s, %(preferred_product)s, %(time_zone)s,
            %(attributes)s)
    ON CONFLICT (account_id, phone) DO NOTHING
    RETURNING {COLUMNS}
"""

# an erased customer is gone for every reader: its row stays only for its messages' counts
SELECT_CUSTOMER: Final = f"SELECT {COLUMNS} FROM customers WHERE id = %(id)s AND erased_at IS NULL"
LOCK_CUSTOMER: Final = f"SELECT {COLUMNS} FROM customers WHERE id = %(id)s AND erased_at IS NULL FOR UPDATE"

# the customers of a campaign's first messages (lowest customer ids), served by the (campaign_id, customer_id) key
SAMPLE_OF_CAMPAIGN: Final = f"""
    SELECT {COLUMNS} FROM customers
    WHERE erased_at IS NULL AND id IN (
        SELECT customer_id FROM outbound_messages WHERE campaign_id = %(campaign_id)s
        ORDER BY customer_id LIMIT %(limit)s
    )
    ORDER BY id
"""

LIST_CUSTOMERS: Final = f"""
    SELECT {COLUMNS} FROM customers {{where}}
    ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s
"""
COUNT_CUSTOMERS: Final = "SELECT count(*) FROM customers {where}"
LIST_FILTERS: Final = {"before_id": "id < %(before_id)s", "not_erased": "erased_at IS NULL"}

# a PATCH: the fields as the use case resolved them; attributes merged, a JSON null removing one (jsonb_strip_nulls)
UPDATE_CUSTOMER: Final = f"""
    UPDATE customers
    SET phone = %(phone)s, first_name = %(first_name)s, last_name = %(last_name)s, location = %(location)s,
        preferred_product = %(preferred_product)s, time_zone = %(time_zone)s,
        attributes = jsonb_strip_nulls(attributes || %(attributes)s)
    WHERE id = %(id)s AND erased_at IS NULL
    RETURNING {COLUMNS}
"""
# the right to erasure: every personal field goes, the row (and its messages' counts) stays
ERASE_CUSTOMER: Final = """
    UPDATE customers
    SET phone = NULL, first_name = NULL, last_name = NULL, location = NULL, preferred_product = NULL,
        time_zone = NULL, attributes = '{}'::jsonb, erased_at = now()
    WHERE id = %(id)s AND erased_at IS NULL
"""

# a segment's customers as a SELECT of ids, for the dispatch package's set-based insert; served by the lower(...)
# expression indexes and, for attributes, by customers_attributes_idx (containment) and the range indexes below
SEGMENT_IDS: Final = "SELECT c.id FROM customers AS c WHERE c.erased_at IS NULL {conditions}"
SEGMENT_FILTERS: Final = {
    "location": "lower(c.location) = lower(%(location)s)",
    "preferred_product": "lower(c.preferred_product) = lower(%(preferred_product)s)",
}
# one attribute condition each; {n} numbers the parameters of the filter it belongs to
ATTRIBUTE_EQUALS: Final = "c.attributes @> %(attr_{n}_equals)s"
ATTRIBUTE_ONE_OF: Final = "c.attributes @> ANY (%(attr_{n}_one_of)s::jsonb[])"
# ranges on number and date attributes: the typed copy of the values (customer_attribute_values, kept by triggers
# on customers) and its btree indexes on (account_id, name, value); row-level security adds the account
ATTRIBUTE_RANGE: Final = (
    "c.id IN (SELECT v.customer_id FROM customer_attribute_values AS v WHERE v.name = %(attr_{n}_name)s AND {bounds})"
)
NUMBER_MIN: Final = "v.number >= %(attr_{n}_min)s::double precision"
NUMBER_MAX: Final = "v.number <= %(attr_{n}_max)s::double precision"
DATE_MIN: Final = "v.day >= %(attr_{n}_min)s::date"
DATE_MAX: Final = "v.day <= %(attr_{n}_max)s::date"
COUNT_SEGMENT: Final = "SELECT count(*) FROM ({ids}) AS chosen"

# GET /customers/export: the import's columns, the account's attributes after the built-in ones
EXPORT: Final = """
    COPY (
        SELECT phone, first_name, last_name, location, preferred_product{attributes}
        FROM customers WHERE erased_at IS NULL ORDER BY id
    ) TO STDOUT WITH (FORMAT csv, HEADER true)
"""


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
        attributes=row[8],
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
        "attributes": Jsonb(dict(customer.attributes)),
    }
    cur = await conn.execute(INSERT_CUSTOMER, params)
    row = await cur.fetchone()
    return None if row is None else customer_from_row(row)


async def get(conn: Connection, customer_id: int) -> Customer | None:
    """One customer, or None."""
    cur = await conn.execute(SELECT_CUSTOMER, {"id": customer_id})
    row = await cur.fetchone()
    return None if row is None else customer_from_row(row)


async def sample_of_campaign(conn: Connection, campaign_id: int, limit: int) -> list[Customer]:
    """Up to `limit` customers the campaign has messages for, lowest ids first."""
    cur = await conn.execute(SAMPLE_OF_CAMPAIGN, {"campaign_id": campaign_id, "limit": limit})
    return [customer_from_row(row) for row in await cur.fetchall()]


async def list_page(conn: Connection, page: PageRequest) -> tuple[list[Customer], int]:
    """One page, newest first, and the size of the whole set (below before_id when given)."""
    params: dict[str, Any] = {
        "before_id": page.before_id,
        "not_erased": True,
        "limit": page.page_size,
        "offset": page.offset,
    }
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


async def lock(conn: Connection, customer_id: int) -> Customer | None:
    """One customer, locked for an update, or None (unknown or erased)."""
    cur = await conn.execute(LOCK_CUSTOMER, {"id": customer_id})
    row = await cur.fetchone()
    return None if row is None else customer_from_row(row)


async def update(conn: Connection, customer: Customer, attributes: Mapping[str, Any]) -> Customer | None:
    """Store the customer's fields and merge `attributes` (None removes one); a taken phone raises UniqueViolation."""
    params = {
        "id": customer.id,
        "phone": customer.phone,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "location": customer.location,
        "preferred_product": customer.preferred_product,
        "time_zone": customer.time_zone,
        "attributes": Jsonb(dict(attributes)),
    }
    cur = await conn.execute(UPDATE_CUSTOMER, params)
    row = await cur.fetchone()
    return None if row is None else customer_from_row(row)


async def erase(conn: Connection, customer_id: int) -> bool:
    """Remove the customer's personal data; False when unknown or already erased."""
    cur = await conn.execute(ERASE_CUSTOMER, {"id": customer_id})
    return cur.rowcount == 1


def segment_ids(segment: Segment) -> tuple[sql.Composable, dict[str, Any]]:
    """The SELECT of the segment's customer ids and its parameters (every customer for all=true)."""
    params: dict[str, Any] = {
        "location": None if segment.all_customers else segment.location,
        "preferred_product": None if segment.all_customers else segment.preferred_product,
    }
    conditions: list[sql.Composable] = [
        sql.SQL(SEGMENT_FILTERS[name]) for name in SEGMENT_FILTERS if params[name] is not None
    ]
    for n, condition in enumerate(() if segment.all_customers else segment.attributes):
        conditions.extend(attribute_conditions(n, condition, params))
    chosen = sql.SQL("").join(sql.SQL(" AND ") + condition for condition in conditions)
    return sql.SQL(SEGMENT_IDS).format(conditions=chosen), params


def attribute_conditions(n: int, condition: AttributeFilter, params: dict[str, Any]) -> list[sql.Composable]:
    """The fixed fragments of one attribute filter, their parameters added to `params` (values never inlined)."""
    fragments: list[str] = []
    params[f"attr_{n}_name"] = condition.name
    if condition.equals is not None:
        fragments.append(ATTRIBUTE_EQUALS)
        params[f"attr_{n}_equals"] = Jsonb({condition.name: condition.equals})
    if condition.one_of is not None:
        fragments.append(ATTRIBUTE_ONE_OF)
        params[f"attr_{n}_one_of"] = [Jsonb({condition.name: value}) for value in condition.one_of]
    is_date = isinstance(condition.min, str) or isinstance(condition.max, str)
    bounds: list[str] = []
    if condition.min is not None:
        bounds.append(DATE_MIN if is_date else NUMBER_MIN)
        params[f"attr_{n}_min"] = condition.min
    if condition.max is not None:
        bounds.append(DATE_MAX if is_date else NUMBER_MAX)
        params[f"attr_{n}_max"] = condition.max
    if bounds:
        fragments.append(ATTRIBUTE_RANGE.replace("{bounds}", " AND ".join(bounds)))
    return [sql.SQL(fragment.format(n=n)) for fragment in fragments]


async def count_segment(conn: Connection, segment: Segment) -> int:
    """How many customers the segment has now."""
    ids, params = segment_ids(segment)
    cur = await conn.execute(sql.SQL(COUNT_SEGMENT).format(ids=ids), params)
    row = await cur.fetchone()
    return int(row[0]) if row else 0


def export_statement(attribute_names: Sequence[str]) -> sql.Composed:
    """The COPY ... TO STDOUT of the account's customers, one column per declared attribute."""
    columns = sql.SQL("").join(
        sql.SQL(", attributes ->> {key} AS {column}").format(key=sql.Literal(name), column=sql.Identifier(name))
        for name in attribute_names
    )
    return sql.SQL(EXPORT).format(attributes=columns)
