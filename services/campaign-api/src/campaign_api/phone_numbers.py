"""Phone numbers normalised to E.164 with the phonenumbers library."""

from __future__ import annotations

from typing import Final

import phonenumbers

# numbers written without a country code are read as Kenyan
DEFAULT_REGION: Final = "KE"


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """Parse, check and return the number in E.164; raise ValueError saying why it is not a valid number."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{raw!r} is not a phone number ({exc})") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{raw!r} is not a valid phone number for its country")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
