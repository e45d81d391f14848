"""The bodies of the contacts routes: imports, attribute declarations, customer edits, saved segments."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from campaign_api.api.schemas import (
    NO_NUL,
    AttributeValue,
    AttributeValues,
    Name,
    OptionalText,
    TimeZoneName,
    UtcDatetime,
)
from campaign_api.attributes import AttributeType
from campaign_api.domain import KEEP, AttributeFilter, CustomerChanges, Segment


class RejectedRowBody(BaseModel):
    row: int = Field(description="the row's line in the file (the header is 1)")
    column: str = Field(description="the column at fault ('' when the row's shape is)")
    reason: str


class CustomerImportBody(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    status: str = Field(description="queued, running, done or failed")
    file_name: str | None
    rows_read: int
    rows_imported: int = Field(description="new customers")
    rows_updated: int = Field(description="known customers the file changed (an unchanged row is not counted)")
    rows_rejected: int
    rejected: list[RejectedRowBody] = Field(description="the first 1000 rejected rows")
    error: str | None = Field(description="why a failed import failed")
    created_at: UtcDatetime
    updated_at: UtcDatetime
    finished_at: UtcDatetime | None


AttributeName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]


class DeclareAttributeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "tier", "type": "text"}]})
    name: AttributeName = Field(description="lower snake case; usable as {name} in templates and as a CSV column")
    type: AttributeType


class AttributeBody(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    type: AttributeType
    created_at: UtcDatetime


class AttributeListBody(BaseModel):
    data: list[AttributeBody]


class UpdateCustomerRequest(BaseModel):
    """Only the fields given change; null clears a field (or removes an attribute)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"first_name": "Amina", "attributes": {"tier": "gold"}}]}
    )
    phone: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=NO_NUL)] | None = None
    first_name: OptionalText = None
    last_name: OptionalText = None
    location: OptionalText = None
    preferred_product: OptionalText = None
    time_zone: TimeZoneName | None = Field(
        default=None, description="IANA name (Africa/Nairobi); null clears it (the account's zone applies again)"
    )
    attributes: AttributeValues = Field(default_factory=dict)

    @model_validator(mode="after")
    def phone_not_null(self) -> Self:
        """A customer always has a phone (erasure is DELETE)."""
        if "phone" in self.model_fields_set and self.phone is None:
            raise ValueError("phone cannot be null; DELETE /customers/{id} erases a customer")
        return self

    def changes(self) -> CustomerChanges:
        """The domain's partial update: only the fields the body named."""
        given = self.model_fields_set
        texts: dict[str, Any] = {
            name: (getattr(self, name) or None) if name in given else KEEP
            for name in ("first_name", "last_name", "location", "preferred_product", "time_zone")
        }
        return CustomerChanges(
            phone=self.phone if self.phone is not None else KEEP, attributes=dict(self.attributes), **texts
        )


class AttributeFilterBody(BaseModel):
    """One attribute's condition: equals, one_of, or a range (min and/or max, inclusive; number or date only)."""

    model_config = ConfigDict(extra="forbid")
    name: AttributeName
    equals: AttributeValue | None = None
    one_of: Annotated[list[AttributeValue], Field(min_length=1, max_length=100)] | None = None
    min: Annotated[str, StringConstraints(max_length=10)] | float | None = None
    max: Annotated[str, StringConstraints(max_length=10)] | float | None = None

    @model_validator(mode="after")
    def one_kind(self) -> Self:
        """Exactly one kind of condition."""
        kinds = [self.equals is not None, self.one_of is not None, self.min is not None or self.max is not None]
        if sum(kinds) != 1:
            raise ValueError("give one of equals, one_of, or min/max")
        return self

    def to_domain(self) -> AttributeFilter:
        one_of = tuple(self.one_of) if self.one_of is not None else None
        return AttributeFilter(self.name, equals=self.equals, one_of=one_of, min=self.min, max=self.max)


class SavedSegmentDefinition(BaseModel):
    """Customers chosen by fields (ANDed, case-insensitive) and attribute conditions (ANDed), or all=true."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"location": "Nairobi", "attributes": [{"name": "tier", "one_of": ["gold", "silver"]}]}]
        },
    )
    all: bool = False
    location: OptionalText = None
    preferred_product: OptionalText = None
    attributes: Annotated[list[AttributeFilterBody], Field(max_length=20)] = Field(default_factory=list)

    @model_validator(mode="after")
    def one_way_of_choosing(self) -> Self:
        """Either all, or at least one condition; not both."""
        has_condition = bool(self.location or self.preferred_product or self.attributes)
        if self.all == has_condition:
            raise ValueError("give either all=true or at least one of location, preferred_product, attributes")
        return self

    def to_domain(self) -> Segment:
        return Segment(
            all_customers=self.all,
            location=self.location or None,
            preferred_product=self.preferred_product or None,
            attributes=tuple(condition.to_domain() for condition in self.attributes),
        )


class CreateSegmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    definition: SavedSegmentDefinition


class SavedSegmentBody(BaseModel):
    id: int
    name: str
    definition: dict[str, Any]
    created_at: UtcDatetime


class SavedSegmentListBody(BaseModel):
    data: list[SavedSegmentBody]


class SegmentCountBody(BaseModel):
    segment_id: int
    customers: int = Field(description="customers the segment has now (erased ones never count)")
