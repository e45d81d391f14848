"""Declare and list an account's custom customer attributes (POST/GET /customer-attributes)."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import Caller
from campaign_api.attributes import AttributeDeclaration, AttributeType
from campaign_api.errors import AttributeExists
from campaign_api.repositories import audit_events, customer_attributes
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class DeclareAttribute:
    pool: Pool

    async def __call__(self, caller: Caller, name: str, kind: AttributeType) -> AttributeDeclaration:
        """Declare the attribute; a name the account already declared is a conflict."""
        async with account_transaction(self.pool, caller.account) as conn:
            declared = await customer_attributes.insert_if_absent(conn, name, kind)
            if declared is not None:
                changes = {"name": name, "type": kind.value}
                await audit_events.record(
                    conn, caller, "attribute.declared", "customer_attribute", declared.id, changes
                )
        if declared is None:
            raise AttributeExists(name)
        return declared


@dataclass(frozen=True, slots=True)
class ListAttributes:
    pool: Pool

    async def __call__(self, caller: Caller) -> list[AttributeDeclaration]:
        """The account's declarations by name."""
        async with account_transaction(self.pool, caller.account) as conn:
            return await customer_attributes.list_all(conn)
