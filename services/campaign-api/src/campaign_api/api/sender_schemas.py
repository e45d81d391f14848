"""The /senders bodies: credentials travel only by reference (an environment variable's or Secret key's name)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Self

from dispatch.lifecycle import Channel
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from campaign_api.api.compliance_schemas import SendWindowBody, SendWindowStateBody
from campaign_api.api.schemas import Name, UtcDatetime
from campaign_api.channels import NewSender, Provider, SenderChanges, SenderRow, callback_urls
from campaign_api.domain import KEEP

Address = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00]*$")]
CredentialsRef = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,127}$"),
    Field(description="the NAME of the environment variable or Secret key holding the credentials, never them"),
]
Throughput = Annotated[
    Decimal,
    Field(gt=0, le=10_000, max_digits=10, decimal_places=2, description="segments/s (SMS) or messages/s (WhatsApp)"),
]


class CreateSenderRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Kannel (Safaricom)",
                    "channel": "sms",
                    "provider": "kannel",
                    "address": "ACME",
                    "credentials_ref": "KANNEL_PASSWORD",
                    "throughput_per_s": 80,
                    "is_default": True,
                    "send_window": {"preset": "ke-safaricom"},
                }
            ]
        },
    )
    name: Name
    channel: Channel
    provider: Provider
    address: Address = Field(
        description="SMS: E.164 number, short code or alphanumeric sender id (≤ 11); WhatsApp: phone number id"
    )
    credentials_ref: CredentialsRef | None = None
    throughput_per_s: Throughput = Decimal(80)
    is_default: bool = Field(False, description="the channel's sender for campaigns that name none")
    send_window: SendWindowBody | None = Field(
        default=None,
        description="its own window for promotional messages; they go only when this and the account's window are"
        " both open (422 SEND_WINDOW_DISJOINT when the two never are); null or omitted: only the account's applies",
    )

    def to_domain(self) -> NewSender:
        window, preset = self.send_window.to_domain() if self.send_window else (None, None)
        return NewSender(
            name=self.name,
            channel=self.channel,
            provider=self.provider,
            address=self.address,
            credentials_ref=self.credentials_ref,
            throughput_per_s=self.throughput_per_s,
            is_default=self.is_default,
            window=window,
            window_preset=preset,
        )


class UpdateSenderRequest(BaseModel):
    """A partial update; channel and provider are fixed once made."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"throughput_per_s": 40},
                {"rotate_callback_token": True},
                {"send_window": {"start": "09:00", "end": "17:00", "time_zone": "Africa/Nairobi"}},
                {"send_window": None},
            ],
            "minProperties": 1,
        },
    )
    name: Name | SkipJsonSchema[None] = None
    address: Address | SkipJsonSchema[None] = None
    credentials_ref: CredentialsRef | None = Field(default=None, description="null: the provider needs none")
    throughput_per_s: Throughput | SkipJsonSchema[None] = None
    is_default: bool | SkipJsonSchema[None] = None
    send_window: SendWindowBody | None = Field(
        default=None, description="the sender's own window for promotional messages; null: remove it"
    )
    rotate_callback_token: bool = Field(False, description="true: new callback URLs; the old ones stop working")

    @field_validator("name", "address", "throughput_per_s", "is_default")
    @classmethod
    def not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null")
        return value

    @model_validator(mode="after")
    def changes_something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError(
                "give at least one of name, address, credentials_ref, throughput_per_s, is_default,"
                " send_window, rotate_callback_token"
            )
        return self

    def to_domain(self) -> SenderChanges:
        given = self.model_fields_set
        return SenderChanges(
            name=self.name if self.name is not None else KEEP,
            address=self.address if self.address is not None else KEEP,
            credentials_ref=self.credentials_ref if "credentials_ref" in given else KEEP,
            throughput_per_s=self.throughput_per_s if self.throughput_per_s is not None else KEEP,
            is_default=self.is_default if self.is_default is not None else KEEP,
            window=(self.send_window.to_domain() if self.send_window else (None, None))
            if "send_window" in given
            else KEEP,
            rotate_callback_token=self.rotate_callback_token,
        )


class SenderBody(BaseModel):
    """A sender: never its credentials (only their name), its callback token only inside its callback URLs."""

    id: int
    name: str
    channel: Channel
    provider: Provider
    address: str
    credentials_ref: str | None
    throughput_per_s: float
    is_default: bool
    send_window: SendWindowStateBody | None = Field(
        description="its own window for promotional messages (inside the account's); null: only the account's"
    )
    callback_urls: dict[str, str] = Field(
        description="paste into the provider's console; Kannel's receipt URL is the worker's dlr-url (it fills"
        " {message_id})",
        examples=[{"delivery_receipts": "https://api.example.com/providers/aggregator/<token>/receipts"}],
    )
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def of(cls, sender: SenderRow, base_url: str) -> SenderBody:
        return cls(
            id=sender.id,
            name=sender.name,
            channel=sender.channel,
            provider=sender.provider,
            address=sender.address,
            credentials_ref=sender.credentials_ref,
            throughput_per_s=float(sender.throughput_per_s),
            is_default=sender.is_default,
            send_window=SendWindowStateBody.of(sender.window, sender.window_preset),
            callback_urls=callback_urls(base_url, sender),
            created_at=sender.created_at,
            updated_at=sender.updated_at,
        )


class SenderListBody(BaseModel):
    data: list[SenderBody]
    total_count: int = Field(description="senders matching the filter (below before_id when given)")
    next_cursor: int | None = Field(description="pass as before_id for the next page; null on the last page")
