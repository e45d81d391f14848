"""The caller's account's suppression list, newest first, in keyset pages."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import Caller
from campaign_api.compliance import Suppression
from campaign_api.errors import InvalidPhone
from campaign_api.phone_numbers import normalise_phone
from campaign_api.repositories import suppressions
from campaign_api.repositories.connection import Pool, account_transaction


@dataclass(frozen=True, slots=True)
class ListSuppressions:
    pool: Pool

    async def __call__(
        self, caller: Caller, before_id: int | None, limit: int, phone: str | None = None
    ) -> list[Suppression]:
        """One page; `phone` (any spelling) narrows it to that number."""
        try:
            e164 = None if phone is None else normalise_phone(phone)
        except ValueError as exc:
            raise InvalidPhone(str(exc)) from exc
        async with account_transaction(self.pool, caller.account) as conn:
            return await suppressions.list_page(conn, before_id, limit, e164)
