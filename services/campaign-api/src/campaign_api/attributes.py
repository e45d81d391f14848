"""Custom customer attributes: the types an account may declare, and how a value of each is read and checked."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final

from campaign_api.domain import AttributeFilter, Segment

# mirrors customer_attributes_name_check: a placeholder-safe name that never shadows a built-in field
ATTRIBUTE_NAME: Final = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
BUILT_IN_FIELDS: Final = ("phone", "first_name", "last_name", "location", "preferred_product")
MAX_TEXT_LENGTH: Final = 500
TRUE_WORDS: Final = frozenset({"true", "yes", "1"})
FALSE_WORDS: Final = frozenset({"false", "no", "0"})


class AttributeType(StrEnum):
    """Mirrors customer_attributes_type_check."""

    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"


@dataclass(frozen=True, slots=True)
class AttributeDeclaration:
    """One attribute an account declared."""

    id: int
    name: str
    type: AttributeType
    created_at: datetime


def is_valid_name(name: str) -> bool:
    """A name an attribute may take: lower snake case, not a built-in field."""
    return ATTRIBUTE_NAME.match(name) is not None and name not in BUILT_IN_FIELDS


def parse_text_value(kind: AttributeType, raw: str) -> Any:
    """A CSV cell (already stripped, not empty) as the JSON value stored; raise ValueError saying why not."""
    if kind is AttributeType.TEXT:
        if len(raw) > MAX_TEXT_LENGTH:
            raise ValueError(f"longer than {MAX_TEXT_LENGTH} characters")
        return raw
    if kind is AttributeType.NUMBER:
        try:
            number = float(raw)
        except ValueError:
            raise ValueError(f"{raw[:40]!r} is not a number") from None
        return checked_number(number)
    if kind is AttributeType.BOOLEAN:
        word = raw.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError(f"{raw[:40]!r} is not a boolean (true/false, yes/no, 1/0)")
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        raise ValueError(f"{raw[:40]!r} is not a date (YYYY-MM-DD)") from None


def checked_number(number: float) -> int | float:
    """A finite number, integral ones kept as integers (so 3 renders as 3, not 3.0)."""
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def check_json_value(kind: AttributeType, value: Any) -> Any:
    """A value given in a JSON body, as stored; raise ValueError saying why it does not fit the type."""
    if kind is AttributeType.TEXT:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return parse_text_value(kind, value)
    if kind is AttributeType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("must be a number")
        try:
            return checked_number(float(value))
        except OverflowError:
            raise ValueError("is too large a number") from None
    if kind is AttributeType.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if not isinstance(value, str):
        raise ValueError("must be a date string (YYYY-MM-DD)")
    return parse_text_value(kind, value)


def check_values(declared: Mapping[str, AttributeType], values: Mapping[str, Any]) -> dict[str, Any]:
    """The values of a JSON body checked against the declarations; None removes a value. Raise ValueError naming
    the attribute."""
    checked: dict[str, Any] = {}
    for name, value in values.items():
        kind = declared.get(name)
        if kind is None:
            raise ValueError(f"{name}: no such attribute is declared (POST /customer-attributes)")
        if value is None:
            checked[name] = None
            continue
        try:
            checked[name] = check_json_value(kind, value)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    return checked


def as_text(value: Any) -> str:
    """A stored value as a template or an export writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_filter(declared: Mapping[str, AttributeType], condition: AttributeFilter) -> AttributeFilter:
    """A segment's attribute condition checked against the declarations, values as stored; raise ValueError."""
    kind = declared.get(condition.name)
    if kind is None:
        raise ValueError(f"{condition.name}: no such attribute is declared")
    try:
        equals = None if condition.equals is None else check_json_value(kind, condition.equals)
        one_of = None if condition.one_of is None else tuple(check_json_value(kind, v) for v in condition.one_of)
        bounds = [condition.min, condition.max]
        if any(bound is not None for bound in bounds):
            if kind not in (AttributeType.NUMBER, AttributeType.DATE):
                raise ValueError(f"a range needs a number or date attribute, not {kind.value}")
            bounds = [None if bound is None else check_json_value(kind, bound) for bound in bounds]
    except ValueError as exc:
        raise ValueError(f"{condition.name}: {exc}") from None
    return AttributeFilter(condition.name, equals=equals, one_of=one_of, min=bounds[0], max=bounds[1])


def check_segment(declared: Mapping[str, AttributeType], segment: Segment) -> Segment:
    """The segment with each attribute condition checked (see check_filter)."""
    checked = tuple(check_filter(declared, condition) for condition in segment.attributes)
    return dataclasses.replace(segment, attributes=checked)
