"""The template language: `{field}`, `{field|fallback}`, `{{` and `}}`; parsed once, rendered many times.

Rendering is plain string work over a precompiled list of pieces: no eval, no attribute access, no engine that
can run code. A field that is null, empty or only whitespace is *missing*: its fallback is used, or it renders
as nothing and the spaces it leaves are tidied (see `join_tidily` for the exact rule).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from template_svc.errors import InvalidTemplate

FIELDS: Final = ("first_name", "last_name", "phone", "location", "preferred_product")
KNOWN_FIELDS: Final = frozenset(FIELDS)
# a custom attribute's name (campaign-api's declarations follow the same rule)
ATTRIBUTE_NAME: Final = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# the attributes a template may use: the names given, or ANY_ATTRIBUTE for a template validated already
AttributeNames = frozenset[str] | None
ANY_ATTRIBUTE: Final = None
# a space left by an empty placeholder is dropped before these
CLOSING_PUNCTUATION: Final = frozenset(",.!?;:")

CustomerFields = Mapping[str, str | None]


class TemplateErrorCode(StrEnum):
    """Why a template is invalid; the values travel over gRPC unchanged."""

    UNKNOWN_PLACEHOLDER = "UNKNOWN_PLACEHOLDER"
    UNBALANCED_BRACE = "UNBALANCED_BRACE"
    EMPTY_PLACEHOLDER = "EMPTY_PLACEHOLDER"


@dataclass(frozen=True, slots=True)
class TemplateError:
    """One error in a template, at a 0-based character position, naming the placeholder when there is one."""

    code: TemplateErrorCode
    message: str
    position: int
    placeholder: str = ""


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A `{field}` or `{field|fallback}` in a template; fallback "" means none."""

    field: str
    fallback: str
    position: int


@dataclass(frozen=True, slots=True)
class ParsedTemplate:
    """A template split into literal text and placeholders, with every error found on the way."""

    source: str
    segments: tuple[str | Placeholder, ...]
    placeholders: tuple[str, ...]  # known fields used, in order of first use
    errors: tuple[TemplateError, ...]

    @property
    def is_valid(self) -> bool:
        """True when the template can be rendered."""
        return not self.errors


def is_known(name: str, attributes: AttributeNames) -> bool:
    """A built-in field, or a custom attribute the template may use."""
    if name in KNOWN_FIELDS:
        return True
    return ATTRIBUTE_NAME.match(name) is not None if attributes is ANY_ATTRIBUTE else name in attributes


def parse_template(source: str, attributes: AttributeNames = frozenset()) -> ParsedTemplate:
    """Split a template into segments; never raises: errors are collected, and parsing goes on after each.

    `attributes` are the custom attribute names allowed beside the built-in fields (ANY_ATTRIBUTE: any such name)."""
    segments: list[str | Placeholder] = []
    placeholders: list[str] = []
    errors: list[TemplateError] = []
    literal: list[str] = []
    i, n = 0, len(source)
    while i < n:
        # copy the run of plain text up to the next brace in one slice
        next_open, next_close = source.find("{", i), source.find("}", i)
        brace = min((p for p in (next_open, next_close) if p != -1), default=n)
        if brace > i:
            literal.append(source[i:brace])
            i = brace
            continue
        char = source[i]
        doubled = i + 1 < n and source[i + 1] == char
        if doubled:
            literal.append(char)
            i += 2
        elif char == "}":
            errors.append(
                TemplateError(
                    TemplateErrorCode.UNBALANCED_BRACE,
                    f"'}}' at position {i} has no opening '{{' (write '}}}}' for a literal brace)",
                    i,
                )
            )
            i += 1
        else:
            close = source.find("}", i + 1)
            nested = source.find("{", i + 1)
            if close == -1 or (nested != -1 and nested < close):
                errors.append(
                    TemplateError(
                        TemplateErrorCode.UNBALANCED_BRACE,
                        f"'{{' at position {i} is never closed (write '{{{{' for a literal brace)",
                        i,
                    )
                )
                i += 1
                continue
            name, _, fallback = source[i + 1 : close].partition("|")
            name = name.strip()
            if not name:
                errors.append(
                    TemplateError(TemplateErrorCode.EMPTY_PLACEHOLDER, f"empty placeholder at position {i}", i)
                )
            elif not is_known(name, attributes):
                known = ", ".join((*FIELDS, *sorted(attributes or ())))
                errors.append(
                    TemplateError(
                        TemplateErrorCode.UNKNOWN_PLACEHOLDER,
                        f"unknown placeholder {{{name}}} at position {i}; known fields: {known}",
                        i,
                        name,
                    )
                )
            else:
                if literal:
                    segments.append("".join(literal))
                    literal.clear()
                segments.append(Placeholder(name, fallback.strip(), i))
                if name not in placeholders:
                    placeholders.append(name)
            i = close + 1
    if literal:
        segments.append("".join(literal))
    return ParsedTemplate(source, tuple(segments), tuple(placeholders), tuple(errors))


def compile_template(source: str, attributes: AttributeNames = frozenset()) -> CompiledTemplate:
    """Parse a template for rendering; raise InvalidTemplate carrying every error when it has any."""
    parsed = parse_template(source, attributes)
    if parsed.errors:
        raise InvalidTemplate(parsed.errors)
    return CompiledTemplate(parsed)


class CompiledTemplate:
    """A valid template ready to render: literal pieces are fixed, placeholders are slots filled per customer."""

    __slots__ = ("_pieces", "_slots", "parsed")

    def __init__(self, parsed: ParsedTemplate) -> None:
        if parsed.errors:
            raise InvalidTemplate(parsed.errors)
        self.parsed = parsed
        self._pieces: list[str] = []
        slots: list[tuple[int, str, str]] = []
        for segment in parsed.segments:
            if isinstance(segment, Placeholder):
                slots.append((len(self._pieces), segment.field, segment.fallback))
                self._pieces.append("")
            else:
                self._pieces.append(segment)
        self._slots = tuple(slots)

    @property
    def source(self) -> str:
        """The template text as written."""
        return self.parsed.source

    def render(self, fields: CustomerFields) -> str:
        """Fill the placeholders from one customer's fields; never raises for any string or None values."""
        pieces = self._pieces.copy()
        has_gap = False
        for index, field, fallback in self._slots:
            value = fields.get(field)
            if value:
                value = value.strip()
            if not value:
                value = fallback
                # literal pieces are never empty, so an empty piece marks exactly the gaps to tidy
                has_gap = has_gap or not value
            pieces[index] = value
        return join_tidily(pieces) if has_gap else "".join(pieces)


def join_tidily(pieces: list[str]) -> str:
    """Join rendered pieces, where "" is an empty placeholder (a gap), tidying the spaces each gap leaves.

    The spaces (U+0020) touching a gap on either side, across consecutive gaps, become one space; they become
    nothing at the start or end of the message, next to any other whitespace (a line break, a tab), or before
    one of , . ! ? ; : . Text away from gaps, and punctuation anywhere, is never changed.
    """
    out: list[str] = []
    in_gap = False
    saw_space = False
    for piece in pieces:
        if not piece:
            if not in_gap:
                in_gap = True
                saw_space = _drop_trailing_spaces(out)
            continue
        if in_gap:
            stripped = piece.lstrip(" ")
            saw_space = saw_space or len(stripped) != len(piece)
            if not stripped:
                continue
            in_gap = False
            if (
                saw_space
                and out
                and not out[-1][-1].isspace()
                and not stripped[0].isspace()
                and stripped[0] not in CLOSING_PUNCTUATION
            ):
                out.append(" ")
            piece = stripped
        out.append(piece)
    return "".join(out)


def _drop_trailing_spaces(out: list[str]) -> bool:
    """Remove the spaces at the end of the text joined so far; say whether there were any."""
    dropped = False
    while out:
        last = out[-1]
        kept = last.rstrip(" ")
        if len(kept) != len(last):
            dropped = True
        if kept:
            out[-1] = kept
            break
        out.pop()
    return dropped
