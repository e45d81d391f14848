"""A CSV import's rows: the header mapped to fields, and chunks of rows checked and normalised.

Pure functions over plain values, so a chunk can be checked in a worker process (phone parsing is the import's
heaviest CPU work) and the results handed back to the COPY as CSV ready to send.
"""

from __future__ import annotations

import csv
import functools
import io
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


PHONE_MEMO_SIZE: Final = 65_536  # distinct raw phones remembered per process (a repeated number is parsed once)


@dataclass(slots=True)
class CheckedChunk:
    """What a chunk of rows gave: the rows to stage as COPY CSV (row number, phone in E.164, first_name, last_name,
    location, preferred_product, attributes as JSON), how many, and the rows refused.

    The staged rows travel as one CSV buffer, not as Python tuples: it is what the COPY reads, so the process
    running the import only forwards it."""

    staged: bytes = b""
    staged_rows: int = 0
    rejected: list[Rejection] = field(default_factory=list)


@functools.lru_cache(maxsize=PHONE_MEMO_SIZE)
def phone_or_reason(raw: str, region: str) -> tuple[str | None, str]:
    """The phone in E.164 and "", or None and why not (memoised: exceptions are not)."""
    try:
        return normalise_phone(raw, region), ""
    except ValueError as exc:
        return None, str(exc)


def check_chunk(layout: ImportLayout, numbers: Sequence[int], rows: Sequence[Sequence[str]]) -> CheckedChunk:
    """Check and normalise rows (numbered as in `numbers`); a bad row is refused alone, naming its column."""
    rejected: list[Rejection] = []
    out = io.StringIO()
    # empty cells are written as None, which csv writes unquoted: COPY's CSV format reads that as NULL
    stage = csv.writer(out, lineterminator="\n").writerow
    staged = 0
    width = len(layout.names)
    region = layout.region
    phone_at = layout.fields["phone"]
    text_fields = tuple((name, layout.fields.get(name)) for name in BUILT_IN_FIELDS[1:])
    attributes = layout.attributes
    for number, row in zip(numbers, rows, strict=True):
        if len(row) != width:
            rejected.append(Rejection(number, "", f"has {len(row)} cells; the header has {width}"))
            continue
        raw_phone = row[phone_at].strip()
        if not raw_phone:
            rejected.append(Rejection(number, "phone", "is empty"))
            continue
        phone, reason = phone_or_reason(raw_phone, region)
        if phone is None:
            rejected.append(Rejection(number, "phone", reason))
            continue
        staged_row: list[object] = [number, phone]
        refused: Rejection | None = None
        for name, index in text_fields:
            value = row[index].strip() if index is not None else ""
            if len(value) > MAX_FIELD_LENGTH:
                refused = Rejection(number, name, f"longer than {MAX_FIELD_LENGTH} characters")
                break
            if "\x00" in value:
                refused = Rejection(number, name, "contains a NUL character")
                break
            staged_row.append(value or None)
        values: dict[str, object] = {}
        for index, name, kind in attributes if refused is None else ():
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
            rejected.append(refused)
            continue
        staged_row.append(json.dumps(values) if values else "{}")
        stage(staged_row)
        staged += 1
    return CheckedChunk(out.getvalue().encode(), staged, rejected)
