"""An account's dead letters, newest first, keyset paged, filtered by campaign and reason."""

from __future__ import annotations

from dataclasses import dataclass

from campaign_api.accounts import Caller
from campaign_api.repositories import dead_letters
from campaign_api.repositories.connection import Pool, account_transaction
from campaign_api.repositories.dead_letters import DeadLetter


@dataclass(frozen=True, slots=True)
class DeadLetterPage:
    """One page, and the before_id of the next one (None on the last page)."""

    items: list[DeadLetter]
    next_cursor: int | None


@dataclass(frozen=True, slots=True)
class ListDeadLetters:
    pool: Pool

    async def __call__(
        self, caller: Caller, *, limit: int, before_id: int | None, campaign_id: int | None, reason: str | None
    ) -> DeadLetterPage:
        """Read one more row than asked for, to know whether another page follows."""
        async with account_transaction(self.pool, caller.account) as conn:
            rows = await dead_letters.list_page(
                conn, limit=limit + 1, before_id=before_id, campaign_id=campaign_id, reason=reason
            )
        items = rows[:limit]
        return DeadLetterPage(items, items[-1].id if len(rows) > limit else None)
