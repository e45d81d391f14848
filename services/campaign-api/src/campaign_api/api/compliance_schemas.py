"""The bodies of the compliance endpoints (issue 15): suppressions, the account's compliance settings, inbound
messages."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal, Self

from dispatch.lifecycle import Channel
from dispatch.send_windows import PRESETS, SendWindow, zone_named
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from campaign_api.api.schemas import NO_NUL, UtcDatetime
from campaign_api.compliance import (
    DEFAULT_START_KEYWORDS,
    DEFAULT_STOP_KEYWORDS,
    ComplianceSettings,
    KeywordAction,
    Suppression,
    SuppressionSource,
    normalise_keyword,
)
from campaign_api.inbound import RecordedInbound, StoredInbound

Phone = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=NO_NUL)]
Keyword = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=NO_NUL)]
Keywords = Annotated[list[Keyword], Field(min_length=1, max_length=50)]
# a local wall-clock time, HH:MM (24 h); no offset: the window's zone says where
LocalTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
PresetName = Literal["ke-safaricom", "us-tcpa"]
assert set(PRESETS) == {"ke-safaricom", "us-tcpa"}  # PresetName lists them all


class CreateSuppressionRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"phone": "+254712345678", "channel": "sms", "reason": "asked by phone"}]},
    )
    phone: Phone = Field(description="any spelling; without a country code read as Kenyan; stored in E.164")
    channel: Channel | None = Field(default=None, description="the channel opted out of; null or omitted: every one")
    reason: Annotated[str, StringConstraints(max_length=500, pattern=NO_NUL)] = ""


class SuppressionBody(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    phone: str = Field(description="E.164")
    channel: Channel | None = Field(description="null: every channel")
    reason: str
    source: SuppressionSource = Field(description="api, keyword (the recipient texted STOP) or provider")
    created_at: UtcDatetime

    @classmethod
    def of(cls, suppression: Suppression) -> SuppressionBody:
        return cls.model_validate(suppression)


class SuppressionListBody(BaseModel):
    data: list[SuppressionBody]
    next_cursor: int | None = Field(description="pass as before_id for the next page; null on the last page")


class SendWindowBody(BaseModel):
    """A window for promotional messages: a preset, or start, end and time_zone (local time, end excluded)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"preset": "ke-safaricom"}, {"start": "08:00", "end": "21:00", "time_zone": "America/Chicago"}]
        },
    )
    preset: PresetName | None = Field(
        default=None, description="ke-safaricom: 08:00-18:00 Africa/Nairobi; us-tcpa: 08:00-21:00 America/New_York"
    )
    start: LocalTime | None = Field(default=None, examples=["08:00"])
    end: LocalTime | None = Field(default=None, examples=["18:00"], description="excluded: 18:00 means until 17:59:59")
    time_zone: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None

    @model_validator(mode="after")
    def preset_or_hours(self) -> Self:
        """A preset alone, or all three of start, end and time_zone, with start ≠ end in a zone zoneinfo knows."""
        hours = (self.start, self.end, self.time_zone)
        if self.preset is not None:
            if any(v is not None for v in hours):
                raise ValueError("give either preset or start, end and time_zone, not both")
            return self
        if any(v is None for v in hours):
            raise ValueError("give preset, or all of start, end and time_zone")
        zone_named(str(self.time_zone))
        if self.start == self.end:
            raise ValueError("start and end must differ")
        return self

    def to_domain(self) -> tuple[SendWindow, str | None]:
        if self.preset is not None:
            return PRESETS[self.preset], self.preset
        assert self.start is not None and self.end is not None and self.time_zone is not None
        return SendWindow(
            time.fromisoformat(self.start), time.fromisoformat(self.end), zone_named(self.time_zone)
        ), None


class ComplianceSettingsRequest(BaseModel):
    """The whole of an account's compliance settings: a field left out takes its default."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"send_window": {"preset": "ke-safaricom"}, "opt_out_required": True, "opt_out_text": "STOP*456*9*5#"}
            ]
        },
    )
    send_window: SendWindowBody | None = Field(default=None, description="null or omitted: no window")
    opt_out_required: bool = Field(
        default=True, description="promotional SMS templates must contain opt_out_text (when one is set)"
    )
    opt_out_text: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)] | None = Field(
        default=None, description="the opt-out instruction, e.g. STOP*456*9*5#; matched ignoring case and spacing"
    )
    stop_keywords: Keywords = Field(default_factory=lambda: list(DEFAULT_STOP_KEYWORDS))
    start_keywords: Keywords = Field(default_factory=lambda: list(DEFAULT_START_KEYWORDS))

    @model_validator(mode="after")
    def keywords_are_words(self) -> Self:
        """Every keyword keeps a letter or digit once case, spacing and punctuation go; no word is stop and start."""
        stop = {normalise_keyword(k) for k in self.stop_keywords}
        start = {normalise_keyword(k) for k in self.start_keywords}
        if "" in stop or "" in start:
            raise ValueError("a keyword needs at least one letter or digit")
        if both := stop & start:
            raise ValueError(f"{', '.join(sorted(both))} cannot be both a stop and a start keyword")
        return self

    def to_domain(self) -> ComplianceSettings:
        window, preset = self.send_window.to_domain() if self.send_window else (None, None)
        return ComplianceSettings(
            window=window,
            window_preset=preset,
            opt_out_required=self.opt_out_required,
            opt_out_text=self.opt_out_text.strip() if self.opt_out_text else None,
            stop_keywords=tuple(dict.fromkeys(normalise_keyword(k) for k in self.stop_keywords)),
            start_keywords=tuple(dict.fromkeys(normalise_keyword(k) for k in self.start_keywords)),
        )


class SendWindowStateBody(BaseModel):
    preset: str | None
    start: str = Field(examples=["08:00"], description="local time HH:MM")
    end: str = Field(examples=["18:00"], description="local time HH:MM, excluded")
    time_zone: str

    @classmethod
    def of(cls, window: SendWindow | None, preset: str | None) -> SendWindowStateBody | None:
        if window is None:
            return None
        return cls(preset=preset, start=f"{window.start:%H:%M}", end=f"{window.end:%H:%M}", time_zone=window.zone.key)


class ComplianceSettingsBody(BaseModel):
    send_window: SendWindowStateBody | None = Field(description="null: promotional messages go at any hour")
    opt_out_required: bool
    opt_out_text: str | None
    stop_keywords: list[str]
    start_keywords: list[str]
    updated_at: UtcDatetime | None = Field(description="null while the account keeps the defaults")

    @classmethod
    def of(cls, settings: ComplianceSettings) -> ComplianceSettingsBody:
        return cls(
            send_window=SendWindowStateBody.of(settings.window, settings.window_preset),
            opt_out_required=settings.opt_out_required,
            opt_out_text=settings.opt_out_text,
            stop_keywords=list(settings.stop_keywords),
            start_keywords=list(settings.start_keywords),
            updated_at=settings.updated_at,
        )


class InboundMessageRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"channel": "sms", "phone": "+254712345678", "body": "STOP"}]}
    )
    channel: Channel
    phone: Phone = Field(description="the sender; any spelling, stored in E.164")
    body: Annotated[str, StringConstraints(max_length=4096, pattern=NO_NUL)]
    provider_message_id: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)] | None = Field(
        default=None, description="posting the same id again stores and acts on nothing new"
    )


class InboundResultBody(BaseModel):
    id: int | None = Field(description="the stored message; null for a repeated provider_message_id")
    duplicate: bool
    opt_out: KeywordAction | None = Field(
        description="stop: the phone is now suppressed on the channel; start: its keyword opt-out was lifted"
    )

    @classmethod
    def of(cls, recorded: RecordedInbound | None) -> InboundResultBody:
        if recorded is None:
            return cls(id=None, duplicate=True, opt_out=None)
        return cls(id=recorded.id, duplicate=False, opt_out=recorded.action)


class InboundMessageBody(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    channel: Channel
    phone: str
    body: str
    provider: str
    provider_message_id: str | None
    received_at: UtcDatetime

    @classmethod
    def of(cls, message: StoredInbound) -> InboundMessageBody:
        return cls.model_validate(message)


class InboundMessageListBody(BaseModel):
    data: list[InboundMessageBody]
    next_cursor: int | None
