"""Every SQL statement on customer_attributes (an account's attribute declarations)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from campaign_api.attributes import AttributeDeclaration, AttributeType
from campaign_api.repositories.connection import Connection

COLUMNS: Final = "id, name, type, created_at"

# customer_attributes_account_name_key decides duplicates: no row back means the name is taken
INSERT_ATTRIBUTE: Final = f"""
    INSERT INTO customer_attributes (name, type) VALUES (%(name)s, %(type)s)
    ON CONFLICT (account_id, name) DO NOTHING
    RETURNING {COLUMNS}
"""
# served by customer_attributes_account_name_key; row-level security adds the account
LIST_ATTRIBUTES: Final = f"SELECT {COLUMNS} FROM customer_attributes ORDER BY name"


def declaration_from_row(row: Sequence[Any]) -> AttributeDeclaration:
    """Build a declaration from the COLUMNS of a row."""
    return AttributeDeclaration(id=row[0], name=row[1], type=AttributeType(row[2]), created_at=row[3])


async def insert_if_absent(conn: Connection, name: str, kind: AttributeType) -> AttributeDeclaration | None:
    """Declare the attribute; None when the account already has one of that name."""
    cur = await conn.execute(INSERT_ATTRIBUTE, {"name": name, "type": kind.value})
    row = await cur.fetchone()
    return None if row is None else declaration_from_row(row)


async def list_all(conn: Connection) -> list[AttributeDeclaration]:
    """The account's declarations by name."""
    cur = await conn.execute(LIST_ATTRIBUTES)
    return [declaration_from_row(row) for row in await cur.fetchall()]


async def types_by_name(conn: Connection) -> dict[str, AttributeType]:
    """The account's declared attributes and their types."""
    return {declared.name: declared.type for declared in await list_all(conn)}


async def names(conn: Connection) -> list[str]:
    """The account's declared attribute names (what a template may use beside the built-in fields)."""
    return [declared.name for declared in await list_all(conn)]
