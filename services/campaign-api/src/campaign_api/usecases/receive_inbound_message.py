"""Store an inbound message posted through the REST API (provider 'api') and act on its keyword."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.lifecycle import Channel

from campaign_api.accounts import Caller
from campaign_api.errors import InvalidPhone
from campaign_api.inbound import InboundMessage, RecordedInbound, record_and_act
from campaign_api.phone_numbers import normalise_phone
from campaign_api.repositories.connection import Pool, account_transaction

# the provider name of messages posted through POST /inbound-messages
API_PROVIDER = "api"


@dataclass(frozen=True, slots=True)
class ReceiveInboundMessage:
    pool: Pool

    async def __call__(
        self, caller: Caller, channel: Channel, phone: str, body: str, provider_message_id: str | None
    ) -> RecordedInbound | None:
        """The stored message and what it did; None when that provider_message_id was stored before."""
        try:
            e164 = normalise_phone(phone)
        except ValueError as exc:
            raise InvalidPhone(str(exc)) from exc
        message = InboundMessage(channel, e164, body, API_PROVIDER, provider_message_id=provider_message_id)
        async with account_transaction(self.pool, caller.account) as conn:
            return await record_and_act(conn, message)
