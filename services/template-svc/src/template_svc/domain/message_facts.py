"""Facts about a rendered message on its channel: SMS encoding, length and segments; WhatsApp's length limit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Channel(StrEnum):
    """The channels a campaign sends on (the values of the campaigns.channel column)."""

    SMS = "sms"
    WHATSAPP = "whatsapp"


class Encoding(StrEnum):
    """How the channel carries the text."""

    GSM7 = "GSM-7"
    UCS2 = "UCS-2"
    UNICODE = "UNICODE"  # WhatsApp: no SMS encoding applies


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """Encoding, length as the channel counts it, segments, and what keeps the message from its channel."""

    encoding: Encoding
    characters: int
    segments: int
    violations: tuple[str, ...] = ()


# GSM 03.38 basic character set, in table order 0x00-0x7F; 0x1B is the escape to the extension table, not a character
GSM7_BASIC_TABLE: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
GSM7_BASIC: Final = frozenset(GSM7_BASIC_TABLE) - {"\x1b"}
# GSM 03.38 extension table: each is sent as escape + character, so it counts 2
GSM7_EXTENSION: Final = frozenset("\f^{}\\[~]|€")

SMS_SINGLE_GSM7: Final = 160
SMS_PART_GSM7: Final = 153  # 7 septets of each part carry the concatenation header
SMS_SINGLE_UCS2: Final = 70
SMS_PART_UCS2: Final = 67
SMS_MAX_SEGMENTS: Final = 255  # the concatenation header counts parts in one octet
WHATSAPP_MAX_CHARACTERS: Final = 4096

# ASCII fast path: bytes.translate deletes every basic-table byte in C, leaving only the characters to look at
_GSM7_BASIC_ASCII: Final = bytes(sorted(ord(c) for c in GSM7_BASIC if ord(c) < 128))
_GSM7_EXTENSION_ASCII: Final = bytes(sorted(ord(c) for c in GSM7_EXTENSION if ord(c) < 128))
_EMPTY: Final = "message is empty"


def measure(text: str, channel: Channel) -> MessageFacts:
    """Facts about one rendered message on its channel."""
    if channel is Channel.WHATSAPP:
        return measure_whatsapp(text)
    return measure_sms(text)


def measure_whatsapp(text: str) -> MessageFacts:
    """WhatsApp counts characters and takes at most 4,096 of them in one message."""
    characters = len(text)
    violations: tuple[str, ...] = ()
    if characters > WHATSAPP_MAX_CHARACTERS:
        violations = (f"whatsapp message exceeds {WHATSAPP_MAX_CHARACTERS} characters ({characters})",)
    elif not characters:
        violations = (_EMPTY,)
    return MessageFacts(Encoding.UNICODE, characters, 1, violations)


def measure_sms(text: str) -> MessageFacts:
    """GSM-7 when every character is in the GSM 03.38 tables (extension characters count 2), else UCS-2."""
    if text.isascii():
        rest = text.encode("ascii").translate(None, _GSM7_BASIC_ASCII)
        if not rest:
            return _sms_facts(Encoding.GSM7, len(text), _gsm7_segments(text, len(text), has_double=False))
        if not rest.translate(None, _GSM7_EXTENSION_ASCII):
            septets = len(text) + len(rest)
            return _sms_facts(Encoding.GSM7, septets, _gsm7_segments(text, septets, has_double=True))
        # control characters or a backtick: GSM-7 cannot carry them, and ASCII is one UTF-16 unit per character
        return _sms_facts(Encoding.UCS2, len(text), _ucs2_segments(text, len(text), has_double=False))
    if GSM7_BASIC.issuperset(text):
        return _sms_facts(Encoding.GSM7, len(text), _gsm7_segments(text, len(text), has_double=False))
    outside = [c for c in text if c not in GSM7_BASIC]
    if GSM7_EXTENSION.issuperset(outside):
        septets = len(text) + len(outside)
        return _sms_facts(Encoding.GSM7, septets, _gsm7_segments(text, septets, has_double=True))
    units = len(text.encode("utf-16-le")) // 2
    return _sms_facts(Encoding.UCS2, units, _ucs2_segments(text, units, has_double=units != len(text)))


def _sms_facts(encoding: Encoding, characters: int, segments: int) -> MessageFacts:
    """Attach the violations an SMS of this size has."""
    violations: tuple[str, ...] = ()
    if not characters:
        violations = (_EMPTY,)
    elif segments > SMS_MAX_SEGMENTS:
        violations = (f"sms message needs {segments} segments; at most {SMS_MAX_SEGMENTS} can be joined",)
    return MessageFacts(encoding, characters, segments, violations)


def _gsm7_segments(text: str, septets: int, *, has_double: bool) -> int:
    """Segments of a GSM-7 message; an escape pair is never split across two parts."""
    if septets <= SMS_SINGLE_GSM7:
        return 1
    if not has_double:
        return -(-septets // SMS_PART_GSM7)
    return _pack(text, SMS_PART_GSM7, GSM7_EXTENSION.__contains__)


def _ucs2_segments(text: str, units: int, *, has_double: bool) -> int:
    """Segments of a UCS-2 message in UTF-16 code units; a surrogate pair is never split across two parts."""
    if units <= SMS_SINGLE_UCS2:
        return 1
    if not has_double:
        return -(-units // SMS_PART_UCS2)
    return _pack(text, SMS_PART_UCS2, lambda c: ord(c) > 0xFFFF)


def _pack(text: str, part_size: int, is_double: Callable[[str], bool]) -> int:
    """Fill parts greedily, moving a two-unit character whole to the next part when it does not fit."""
    segments, used = 1, 0
    for char in text:
        cost = 2 if is_double(char) else 1
        if used + cost > part_size:
            segments += 1
            used = 0
        used += cost
    return segments
