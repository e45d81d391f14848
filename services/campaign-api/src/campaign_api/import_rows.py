"""A CSV import's rows: the header mapped to fields, and chunks of rows checked and normalised.

Pure functions over plain values, so a chunk can be checked in a worker process (phone parsing is the import's
heaviest CPU work) and the results handed back to the COPY.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from campaign_api.attributes import BUILT_IN_FIELDS, AttributeType, parse_text_value
from campaign_api.phone_numbers import normalise_phone

MAX_FIELD_LENGTH: Final = 200  # as POST /customers


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that was not imported: its number in the file (the header is row 1), the column, why."""

    row: int
    column: str
    reason: str


@dataclass(frozen=True, slots=True)
class ImportLayout:
    """Which CSV column holds which field: built-ins by index, attributes by index with their declared type."""

    names: tuple[str, ...]
    fields: Mapping[str, int]
    attributes: tuple[tuple[int, str, AttributeType], ...]
    region: str

    @classmethod
    def from_header(cls, header: Sequence[str], declared: Mapping[str, AttributeType], region: str) -> ImportLayout:
        """Map the header (case and surrounding blanks ignored); raise ValueError naming a bad column."""
        names = tuple(name.strip().lower() for name in header)
        seen: set[str] = set()
        fields: dict[str, int] = {}
        attributes: list[tuple[int, str, AttributeType]] = []
        for index, name in enumerate(names):
            if not name:
                raise ValueError(f"column {index + 1} of the header has no name")
            if name in seen:
                raise ValueError(f"the column {name!r} appears twice in the header")
            seen.add(name)
            if name in BUILT_IN_FIELDS:
                fields[name] = index
            elif name in declared:
                attributes.append((index, name, declared[name]))
            else:
                raise ValueError(
                    f"the column {name[:60]!r} is neither a customer field ({', '.join(BUILT_IN_FIELDS)}) nor a"
                    " declared attribute (POST /customer-attributes)"
                )
        if "phone" not in fields:
            raise ValueError("the header has no phone column")
        return cls(names, fields, tuple(attributes), region)


# one staged row: row number, phone (E.164), first_name, last_name, location, preferred_product, attributes (JSON)
StagedRow = tuple[int, str, str | None, str | None, str | None, str | None, str]


@dataclass(slots=True)
class CheckedChunk:
    """What a chunk of rows gave: rows to stage, rows refused."""

    staged: list[StagedRow] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def check_chunk(layout: ImportLayout, numbers: Sequence[int], rows: Sequence[Sequence[str]]) -> CheckedChunk:
    """Check and normalise rows (numbered as in `numbers`); a bad row is refused alone, naming its column."""
    result = CheckedChunk()
    width = len(layout.names)
    phone_at = layout.fields["phone"]
    text_fields = [layout.fields.get(name) for name in BUILT_IN_FIELDS[1:]]
    for number, row in zip(numbers, rows, strict=True):
        if len(row) != width:
            result.rejected.append(Rejection(number, "", f"has {len(row)} cells; the header has {width}"))
            continue
        raw_phone = row[phone_at].strip()
        if not raw_phone:
            result.rejected.append(Rejection(number, "phone", "is empty"))
            continue
        try:
            phone = normalise_phone(raw_phone, layout.region)
        except ValueError as exc:
            result.rejected.append(Rejection(number, "phone", str(exc)))
            continue
        texts: list[str | None] = []
        refused: Rejection | None = None
        for name, index in zip(BUILT_IN_FIELDS[1:], text_fields, strict=True):
            value = row[index].strip() if index is not None else ""
            if len(value) > MAX_FIELD_LENGTH:
                refused = Rejection(number, name, f"longer than {MAX_FIELD_LENGTH} characters")
                break
            if "\x00" in value:
                refused = Rejection(number, name, "contains a NUL character")
                break
            texts.append(value or None)
        values: dict[str, object] = {}
        for index, name, kind in layout.attributes if refused is None else ():
            cell = row[index].strip()
            if not cell:
                continue
            try:
                values[name] = parse_text_value(kind, cell)
            except ValueError as exc:
                refused = Rejection(number, name, str(exc))
                break
            if "\x00" in cell:
                refused = Rejection(number, name, "contains a NUL character")
                break
        if refused is not None:
            result.rejected.append(refused)
            continue
        result.staged.append((number, phone, texts[0], texts[1], texts[2], texts[3], json.dumps(values)))
    return result
