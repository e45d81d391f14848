"""Senders: create, list, fetch, change and delete an account's senders (audited like every other change)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import psycopg
from dispatch import outbound_messages
from dispatch.lifecycle import Channel

from campaign_api.accounts import Caller
from campaign_api.channels import (
    NewSender,
    SenderChanges,
    SenderInUse,
    SenderNameExists,
    SenderNotFound,
    SenderRow,
    check_address,
    new_callback_token,
)
from campaign_api.compliance import check_windows_meet, describe_window
from campaign_api.domain import Keep
from campaign_api.ports import Clock
from campaign_api.repositories import audit_events, campaigns, compliance_settings, senders
from campaign_api.repositories.connection import Pool, account_transaction

UNIQUE_NAME = "senders_account_name_key"


def audited(sender: SenderRow) -> dict[str, Any]:
    """What an audit row records of a sender: never its callback token."""
    return {
        "name": sender.name,
        "channel": sender.channel.value,
        "provider": sender.provider.value,
        "address": sender.address,
        "credentials_ref": sender.credentials_ref,
        "throughput_per_s": str(sender.throughput_per_s),
        "is_default": sender.is_default,
        "send_window": describe_window(sender.window) if sender.window else None,
        "window_preset": sender.window_preset,
    }


@dataclass(frozen=True, slots=True)
class CreateSender:
    pool: Pool
    clock: Clock

    async def __call__(self, caller: Caller, sender: NewSender) -> SenderRow:
        """Check the provider's channel, the address rules and that its window meets the account's, then store it
        with a fresh callback token."""
        sender.check()
        try:
            async with account_transaction(self.pool, caller.account) as conn:
                if sender.window is not None:
                    account = await compliance_settings.get(conn)
                    check_windows_meet(
                        "body.send_window", repr(sender.name), sender.window, account.window, self.clock()
                    )
                if sender.is_default:
                    await senders.clear_default(conn, sender.channel)
                created = await senders.insert(conn, sender, new_callback_token())
                await audit_events.record(conn, caller, "sender.created", "sender", created.id, audited(created))
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name == UNIQUE_NAME:
                raise SenderNameExists(sender.name) from exc
            raise
        return created


@dataclass(frozen=True, slots=True)
class ListSenders:
    pool: Pool

    async def __call__(
        self, caller: Caller, limit: int, before_id: int | None, channel: Channel | None
    ) -> tuple[list[SenderRow], int]:
        """A keyset page of the account's senders, newest first, and the count below before_id."""
        async with account_transaction(self.pool, caller.account) as conn:
            return await senders.list_page(conn, limit, before_id, channel)


@dataclass(frozen=True, slots=True)
class GetSender:
    pool: Pool

    async def __call__(self, caller: Caller, sender_id: int) -> SenderRow:
        async with account_transaction(self.pool, caller.account) as conn:
            found = await senders.get(conn, sender_id)
        if found is None:
            raise SenderNotFound(sender_id)
        return found


@dataclass(frozen=True, slots=True)
class UpdateSender:
    pool: Pool
    clock: Clock

    async def __call__(self, caller: Caller, sender_id: int, changes: SenderChanges) -> SenderRow:
        """Change the fields given; becoming the default takes the place of the channel's old default. A changed or
        removed window is checked against the account's, and the messages its campaigns hold back for a window are
        judged again at once."""
        try:
            async with account_transaction(self.pool, caller.account) as conn:
                current = await senders.lock(conn, sender_id)
                if current is None:
                    raise SenderNotFound(sender_id)
                given: dict[str, Any] = {
                    name: value
                    for name, value in (
                        ("name", changes.name),
                        ("address", changes.address),
                        ("credentials_ref", changes.credentials_ref),
                        ("throughput_per_s", changes.throughput_per_s),
                        ("is_default", changes.is_default),
                    )
                    if not isinstance(value, Keep)
                }
                if not isinstance(changes.window, Keep):
                    given["window"], given["window_preset"] = changes.window
                if changes.rotate_callback_token:
                    given["callback_token"] = new_callback_token()
                updated = dataclasses.replace(current, **given)
                check_address(updated.provider, updated.channel, updated.address)
                if "window" in given and updated.window is not None:
                    account = await compliance_settings.get(conn)
                    check_windows_meet(
                        "body.send_window", repr(updated.name), updated.window, account.window, self.clock()
                    )
                if updated.is_default and not current.is_default:
                    await senders.clear_default(conn, updated.channel, updated.id)
                saved = await senders.save(conn, updated)
                if "window" in given:
                    # its campaigns' messages waiting for a window are judged again now, under the new window
                    through = await campaigns.sending_through(conn, saved.id, saved.channel, saved.is_default)
                    if await outbound_messages.release_window_waits(conn, through):
                        for campaign_id in through:
                            await outbound_messages.notify_outbox(conn, campaign_id)
                recorded = {
                    k: v for k, v in audited(saved).items() if k in given or (k == "send_window" and "window" in given)
                }
                if changes.rotate_callback_token:
                    recorded["callback_token"] = "rotated"  # noqa: S105 - a word, not a token
                await audit_events.record(conn, caller, "sender.updated", "sender", saved.id, recorded)
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name == UNIQUE_NAME and not isinstance(changes.name, Keep):
                raise SenderNameExists(changes.name) from exc
            raise
        return saved


@dataclass(frozen=True, slots=True)
class DeleteSender:
    pool: Pool

    async def __call__(self, caller: Caller, sender_id: int) -> None:
        """Delete a sender no campaign names (409 SENDER_IN_USE otherwise); its callback URLs stop working."""
        try:
            async with account_transaction(self.pool, caller.account) as conn:
                if not await senders.delete(conn, sender_id):
                    raise SenderNotFound(sender_id)
                await audit_events.record(conn, caller, "sender.deleted", "sender", sender_id, {})
        except psycopg.errors.ForeignKeyViolation as exc:
            raise SenderInUse(sender_id) from exc
