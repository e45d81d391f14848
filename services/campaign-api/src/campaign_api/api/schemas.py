"""The REST contract's bodies: pydantic models at the edge, converted to and from domain values."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Self

from dispatch.lifecycle import Category, Channel
from dispatch.send_windows import zone_named
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    Strict,
    StrictFloat,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from campaign_api.domain import (
    DEFAULT_VALIDITY_HOURS,
    KEEP,
    Audience,
    CampaignChanges,
    CampaignStatus,
    Page,
    Preview,
    Segment,
)

MAX_SEND_IDS = 100_000
# ids are PostgreSQL bigints: a larger one could never exist, so it is a 422, not a 500. Declared as an exclusive
# bound, 2**63, because OpenAPI numbers travel as doubles: 2**63 - 1 would be printed rounded up to 2**63
BIGINT_LIMIT: Final = 2**63
MAX_PAGE_SIZE: Final = 100
MAX_PAGE: Final = 1_000_000_000  # (page - 1) * page_size stays far inside a bigint OFFSET
# PostgreSQL text cannot hold U+0000; the pattern declares it, and api/errors.py words its failure "contains NUL"
NO_NUL: Final = r"^[^\x00]*$"
# a character str.strip() keeps, spelled out: regex engines disagree on what \s covers, Python's strip does not
NOT_WHITESPACE: Final = r"[^\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
NOT_BLANK: Final[dict[str, JsonValue]] = {"type": "string", "pattern": NOT_WHITESPACE}  # a value that survives the trim


def stripped_not_blank(value: str) -> str:
    """The value without surrounding whitespace; blank is refused (the length was checked on the value as sent)."""
    stripped = value.strip()
    if not stripped:
        raise ValueError("must not be blank")
    return stripped


# strict: a JSON string "1" or a boolean true is not an id (true would otherwise read as customer 1)
Id = Annotated[int, Strict(), Field(ge=1, lt=BIGINT_LIMIT)]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL), AfterValidator(stripped_not_blank)
]
Template = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=NO_NUL)]
OptionalText = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL), AfterValidator(str.strip)] | None
CustomerIds = Annotated[list[Id], Field(min_length=1, max_length=MAX_SEND_IDS)]
# contacts: a custom attribute's value (text, number, boolean, or a date as YYYY-MM-DD; null removes it on PATCH)
AttributeValue = Annotated[str, StringConstraints(max_length=500, pattern=NO_NUL)] | StrictInt | StrictFloat | bool
AttributeValues = Annotated[dict[str, AttributeValue | None], Field(max_length=100)]


def iana_zone(value: str) -> str:
    """An IANA time zone name that zoneinfo knows (e.g. Africa/Nairobi)."""
    return zone_named(value).key


# compliance (issue 15): a customer's own zone; a campaign's validity
TimeZoneName = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(iana_zone)]
ValidityHours = Annotated[
    int,
    Strict(),
    Field(ge=1, le=720, description="hours after the send a message may still go out; past them it expires"),
]


def in_utc(value: datetime) -> datetime:
    """The same instant in UTC, so every timestamp leaves as ...Z whatever offset it arrived with."""
    return value.astimezone(UTC)


# an instant with an offset (a naive one is a VALIDATION_ERROR), normalised to UTC; serialised as RFC 3339 with "Z"
UtcDatetime = Annotated[AwareDatetime, AfterValidator(in_utc)]


class ErrorDetail(BaseModel):
    code: str = Field(examples=["CAMPAIGN_NOT_FOUND"])
    message: str = Field(examples=["Campaign with ID 999 not found"])


class ErrorResponse(BaseModel):
    """Every error the API answers."""

    error: ErrorDetail


class SegmentBody(BaseModel):
    """Customers chosen by fields (ANDed, case-insensitive), or everybody with all=true."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            # one_way_of_choosing, declared: all=true and no field (null or blank), or a field that is not blank
            "oneOf": [
                {
                    "required": ["all"],
                    "properties": {
                        "all": {"const": True},
                        "location": {"not": NOT_BLANK},
                        "preferred_product": {"not": NOT_BLANK},
                    },
                },
                {
                    "properties": {"all": {"const": False}},
                    "anyOf": [
                        {"required": [name], "properties": {name: NOT_BLANK}}
                        for name in ("location", "preferred_product")
                    ],
                },
            ]
        },
    )
    all: bool = False
    location: OptionalText = None
    preferred_product: OptionalText = None

    @model_validator(mode="after")
    def one_way_of_choosing(self) -> Self:
        """Either all, or at least one field; not both."""
        has_field = bool(self.location or self.preferred_product)
        if self.all == has_field:
            raise ValueError("give either all=true or at least one of location, preferred_product")
        return self


class AudienceBody(BaseModel):
    """Who the campaign goes to when sent without customer_ids: explicit ids or a segment."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"customer_ids": [1, 2, 3]}, {"segment": {"location": "Nairobi"}}],
            # exactly_one, declared: one of the two is given (and not null)
            "oneOf": [
                {
                    "required": ["customer_ids"],
                    "properties": {"customer_ids": {"type": "array", "items": {"type": "integer"}}},
                },
                {"required": ["segment"], "properties": {"segment": {"type": "object", "additionalProperties": True}}},
                {"required": ["segment_id"], "properties": {"segment_id": {"type": "integer"}}},
            ],
        },
    )
    customer_ids: CustomerIds | None = None
    segment: SegmentBody | None = None
    # contacts: a saved segment (POST /segments), resolved when the campaign is sent
    segment_id: Id | None = Field(default=None, exclude_if=lambda value: value is None)

    @model_validator(mode="after")
    def exactly_one(self) -> Self:
        """customer_ids, segment or segment_id, exactly one."""
        if [self.customer_ids, self.segment, self.segment_id].count(None) != 2:
            raise ValueError("give exactly one of customer_ids, segment, segment_id")
        return self

    def to_domain(self) -> Audience:
        """The domain value."""
        if self.segment_id is not None:
            return Audience(segment_id=self.segment_id)
        if self.customer_ids is not None:
            return Audience(customer_ids=tuple(dict.fromkeys(self.customer_ids)))
        assert self.segment is not None
        return Audience(
            segment=Segment(self.segment.all, self.segment.location or None, self.segment.preferred_product or None)
        )

    @classmethod
    def of(cls, audience: Audience | None) -> AudienceBody | None:
        """The body form of a stored audience."""
        if audience is None:
            return None
        if audience.customer_ids is not None:
            return cls(customer_ids=list(audience.customer_ids))
        if audience.segment_id is not None:
            return cls(segment_id=audience.segment_id)
        segment = audience.segment or Segment(all_customers=True)
        return cls(
            segment=SegmentBody(
                all=segment.all_customers, location=segment.location, preferred_product=segment.preferred_product
            )
        )


class CreateCampaignRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Summer Sale 2025",
                    "channel": "sms",
                    "base_template": "Hi {first_name|there}, check out {preferred_product} in {location}!",
                    "scheduled_at": "2030-06-01T10:00:00Z",
                }
            ]
        },
    )
    name: Name
    channel: Channel
    base_template: Template
    scheduled_at: UtcDatetime | None = Field(
        default=None, description="RFC 3339 with any offset, stored in UTC; future → scheduled, omitted → draft"
    )
    audience: AudienceBody | None = None
    sender_id: Id | None = Field(
        default=None,
        description="the sender it goes out through (same account and channel); omitted: the account's default"
        " sender for the channel, else the platform's configured sender",
    )
    # optional without a declared default, so generated clients need not send them
    category: Category | SkipJsonSchema[None] = Field(
        default=None,
        description="promotional (when omitted) obeys the account's send window and opt-out rule; transactional not",
    )
    validity_hours: ValidityHours | SkipJsonSchema[None] = Field(
        default=None, description="hours after the send a message may still go out (24 when omitted), 1 to 720"
    )

    @field_validator("category", "validity_hours")
    @classmethod
    def not_null(cls, value: Any) -> Any:
        """Omitted takes the default; an explicit null is a mistake."""
        if value is None:
            raise ValueError("cannot be null (omit it for the default)")
        return value


class UpdateCampaignRequest(BaseModel):
    """A partial update: only the fields present in the body change."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"scheduled_at": "2030-06-01T13:00:00+03:00", "audience": {"segment": {"location": "Nairobi"}}},
                {"name": "Summer Sale 2025 (final)"},
                {"scheduled_at": None},
            ],
            "minProperties": 1,  # changes_something, declared
        },
    )
    name: Name | SkipJsonSchema[None] = None
    base_template: Template | SkipJsonSchema[None] = Field(
        default=None, description="checked by template-svc, as on create"
    )
    scheduled_at: UtcDatetime | None = Field(
        default=None, description="future → scheduled; null → draft (no time); in the past → SCHEDULED_AT_IN_PAST"
    )
    audience: AudienceBody | None = Field(default=None, description="null clears the stored audience")
    sender_id: Id | None = Field(default=None, description="null: back to the account's default sender")
    category: Category | SkipJsonSchema[None] = None
    validity_hours: ValidityHours | SkipJsonSchema[None] = None

    @field_validator("name", "base_template", "category", "validity_hours")
    @classmethod
    def not_null(cls, value: Any) -> Any:
        """name, base_template, category and validity_hours can change but never be removed."""
        if value is None:
            raise ValueError("cannot be null")
        return value

    @model_validator(mode="after")
    def changes_something(self) -> Self:
        """An empty body is a client mistake, not a silent no-op."""
        if not self.model_fields_set:
            raise ValueError(
                "give at least one of name, base_template, scheduled_at, audience, sender_id, category, validity_hours"
            )
        return self

    def to_domain(self) -> CampaignChanges:
        """Only the fields present in the body; the others are KEEP."""
        given = self.model_fields_set
        return CampaignChanges(
            name=self.name if self.name is not None else KEEP,
            base_template=self.base_template if self.base_template is not None else KEEP,
            scheduled_at=self.scheduled_at if "scheduled_at" in given else KEEP,
            audience=(self.audience.to_domain() if self.audience else None) if "audience" in given else KEEP,
            sender_id=self.sender_id if "sender_id" in given else KEEP,
            category=self.category if self.category is not None else KEEP,
            validity_hours=self.validity_hours if self.validity_hours is not None else KEEP,
        )


class CampaignBody(BaseModel):
    """A campaign as created or fetched."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    channel: Channel
    status: CampaignStatus
    base_template: str
    scheduled_at: UtcDatetime | None
    created_at: UtcDatetime
    audience: AudienceBody | None = None
    status_reason: str | None = Field(
        default=None, description="why the API failed the campaign (e.g. it fell due without an audience); else null"
    )
    sender_id: int | None = Field(
        default=None,
        description="the sender it names; null: the account's default for the channel, else the platform's",
    )
    category: Category = Category.PROMOTIONAL
    validity_hours: int = DEFAULT_VALIDITY_HOURS

    @field_validator("audience", mode="before")
    @classmethod
    def audience_body(cls, value: object) -> object:
        """A stored audience in its body form (the domain spells a segment's "all" differently)."""
        return AudienceBody.of(value) if isinstance(value, Audience) else value


class StatsBody(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    total: int
    pending: int
    sending: int
    sent: int
    failed: int
    suppressed: int = Field(0, description="Left out because the recipient opted out (never attempted).")
    expired: int = Field(0, description="Not sent within the campaign's validity (never attempted).")
    cancelled: int = Field(0, description="Ended unsent because the campaign was cancelled.")
    delivered: int = Field(0, description="Delivery receipts said delivered (or read): the phone has it.")
    undelivered: int = Field(0, description="Delivery receipts said it could not be delivered.")
    read: int = Field(0, description="WhatsApp read receipts.")


class CostBody(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    currency: str = Field(examples=["KES"])
    amount: str = Field(examples=["12.8000"], description="a decimal string: no rounding through floats")

    @field_validator("amount", mode="before")
    @classmethod
    def decimal_text(cls, value: object) -> object:
        return str(value) if isinstance(value, Decimal) else value


class UsageBody(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    segments: int = Field(description="SMS segments of the messages sent (template-svc's count per message)")
    cost: list[CostBody] = Field(description="the providers' charges, summed per currency (when they report one)")


class WaitingBody(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    count: int = Field(description="messages held in the outbox until a send window opens")
    until: UtcDatetime | None = Field(description="when the last of them may go; null when none waits")


# --- audience expansion (issue 17): a send answers before its messages exist -----------------------------------
class ExpansionBody(BaseModel):
    """The creation of an accepted send's messages, done after the answer in chunks."""

    model_config = ConfigDict(from_attributes=True)
    audience_size: int = Field(description="recipients the audience resolved to when the send was accepted")
    created: int = Field(description="messages created so far (stats.total counts them as they appear)")
    finished: bool = Field(description="true once every message of the audience exists")


class CampaignDetailBody(CampaignBody):
    """A campaign with its message counts by status."""

    stats: StatsBody
    usage: UsageBody | None = Field(default=None, description="segments sent and what the providers charged")
    waiting: WaitingBody = Field(
        default_factory=lambda: WaitingBody(count=0, until=None),
        description="promotional messages whose turn came outside the account's send window, waiting for it",
    )

    @field_validator("waiting", mode="before")
    @classmethod
    def nothing_waiting(cls, value: object) -> object:
        """A campaign read without its outbox facts has nothing waiting."""
        return WaitingBody(count=0, until=None) if value is None else value

    expansion: ExpansionBody | None = Field(
        default=None, description="the message creation of the campaign's send; null for a campaign never sent"
    )


class CampaignSummaryBody(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    channel: Channel
    status: CampaignStatus
    created_at: UtcDatetime
    category: Category = Category.PROMOTIONAL


class PaginationBody(BaseModel):
    page: int
    page_size: int
    total_count: int = Field(description="rows matching the filters (and below before_id when given)")
    total_pages: int
    next_cursor: int | None = Field(
        description="pass as before_id to get the rows after this page; null on the last page",
    )

    @classmethod
    def of(cls, page: Page[Any]) -> PaginationBody:
        """The pagination block of a page."""
        return cls(
            page=page.request.page,
            page_size=page.request.page_size,
            total_count=page.total_count,
            total_pages=page.total_pages,
            next_cursor=page.next_cursor,
        )


class CampaignListBody(BaseModel):
    data: list[CampaignSummaryBody]
    pagination: PaginationBody


class DueCampaignBody(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    scheduled_at: UtcDatetime


class DueCampaignListBody(BaseModel):
    data: list[DueCampaignBody]


class SendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"customer_ids": [1, 2, 3]}]})
    customer_ids: CustomerIds = Field(description="1 to 100,000 customer ids; duplicates are sent to once")

    def distinct_ids(self) -> list[int]:
        """The ids with duplicates collapsed, first occurrence kept."""
        return list(dict.fromkeys(self.customer_ids))


class SendResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "campaign_id": 1,
                    "messages_queued": 3,
                    "status": "sending",
                    "suppressed": 0,
                    "expected_segments": 2,
                    "expected_segments_total": 5,
                    "expected_segments_sampled": 3,
                }
            ]
        }
    )
    campaign_id: int
    messages_queued: int
    status: CampaignStatus
    suppressed: int = Field(0, description="customers left out because they opted out (the suppression list)")
    expected_segments: int | None = Field(
        None,
        description="SMS segments one message takes: the most any sampled message takes, as template-svc counts"
        " them for the customer it is rendered for (1 on WhatsApp); null when template-svc did not answer in time",
    )
    expected_segments_total: int | None = Field(
        None,
        description="segments the whole send is expected to take: the sampled messages' mean times messages_queued,"
        " rounded up; exact when every message was sampled (messages_queued = expected_segments_sampled); on"
        " WhatsApp messages_queued; null when unknown",
    )
    expected_segments_sampled: int = Field(
        0,
        description="how many of the send's messages were rendered for the estimate: the customers with the lowest"
        " ids, up to 100 (SEND_ESTIMATE_SAMPLE); 0 on WhatsApp, where no message needs rendering to be counted",
    )


class CreateCustomerRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "phone": "0712 345 678",
                    "first_name": "Wanjirũ",
                    "last_name": "Kamau",
                    "location": "Nairobi",
                    "preferred_product": "Running Shoes",
                }
            ]
        },
    )
    phone: str = Field(
        min_length=1, max_length=40, pattern=NO_NUL, description="any spelling; without a country code read as Kenyan"
    )
    first_name: OptionalText = None
    last_name: OptionalText = None
    location: OptionalText = None
    preferred_product: OptionalText = None
    time_zone: TimeZoneName | None = Field(
        default=None, description="IANA name (Africa/Nairobi); send windows follow it instead of the account's zone"
    )
    # contacts: values of the account's declared attributes (POST /customer-attributes)
    attributes: AttributeValues = Field(default_factory=dict)


class CustomerBody(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    phone: str = Field(description="E.164")
    first_name: str | None
    last_name: str | None
    location: str | None
    preferred_product: str | None
    created_at: UtcDatetime
    time_zone: str | None = None
    attributes: dict[str, AttributeValue] = Field(default_factory=dict, description="declared attributes' values")


class CustomerListBody(BaseModel):
    data: list[CustomerBody]
    pagination: PaginationBody


class PreviewRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"customer_id": 1, "override_template": "Hi {first_name}, special offer just for you!"}]
        },
    )
    customer_id: Id
    override_template: Template | None = Field(default=None, description="the campaign's base_template if omitted")


class PreviewCustomer(BaseModel):
    id: int
    first_name: str | None


class FactsBody(BaseModel):
    encoding: str = Field(examples=["GSM-7"], description="GSM-7 or UCS-2 for SMS; Unicode for WhatsApp")
    characters: int = Field(description="as the channel counts them: GSM-7 extension characters count 2")
    segments: int = Field(description="SMS segments (160/153 GSM-7, 70/67 UCS-2); 1 for WhatsApp")
    violations: list[str]


class PreviewResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rendered_message": "Hi Alice, special offer just for you!",
                    "used_template": "Hi {first_name}, special offer just for you!",
                    "customer": {"id": 123, "first_name": "Alice"},
                    "facts": {"encoding": "GSM-7", "characters": 37, "segments": 1, "violations": []},
                }
            ]
        }
    )
    rendered_message: str
    used_template: str
    customer: PreviewCustomer
    facts: FactsBody

    @classmethod
    def of(cls, preview: Preview) -> PreviewResponse:
        """The preview body."""
        facts = preview.rendered.facts
        return cls(
            rendered_message=preview.rendered.text,
            used_template=preview.used_template,
            customer=PreviewCustomer(id=preview.customer.id, first_name=preview.customer.first_name),
            facts=FactsBody(
                encoding=facts.encoding,
                characters=facts.characters,
                segments=facts.segments,
                violations=list(facts.violations),
            ),
        )


class HealthBody(BaseModel):
    status: str = Field(examples=["ok"])


class ReadyBody(BaseModel):
    status: str = Field(examples=["ok"])
    checks: dict[str, str] = Field(examples=[{"database": "ok", "template-svc": "ok"}])
