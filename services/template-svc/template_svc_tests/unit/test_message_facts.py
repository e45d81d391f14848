"""SMS encoding, characters and segments; WhatsApp's limit."""

from __future__ import annotations

import pytest
from template_svc.domain.message_facts import (
    GSM7_BASIC,
    GSM7_BASIC_TABLE,
    GSM7_EXTENSION,
    Channel,
    Encoding,
    measure,
    measure_sms,
    measure_whatsapp,
)


def test_the_gsm_basic_table_has_every_127_characters() -> None:
    assert len(GSM7_BASIC_TABLE) == 128
    assert len(GSM7_BASIC) == 127  # all but the escape
    for char in "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r":
        assert char in GSM7_BASIC


def test_the_whole_basic_table_is_gsm7_one_septet_each() -> None:
    text = "".join(sorted(GSM7_BASIC))
    facts = measure_sms(text)
    assert (facts.encoding, facts.characters, facts.segments) == (Encoding.GSM7, 127, 1)


@pytest.mark.parametrize(
    ("length", "segments"), [(1, 1), (159, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)]
)
def test_gsm7_segments_are_160_alone_and_153_per_part(length: int, segments: int) -> None:
    facts = measure_sms("a" * length)
    assert (facts.encoding, facts.characters, facts.segments) == (Encoding.GSM7, length, segments)


@pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_segments_are_70_alone_and_67_per_part(length: int, segments: int) -> None:
    facts = measure_sms("ж" * length)
    assert (facts.encoding, facts.characters, facts.segments) == (Encoding.UCS2, length, segments)


@pytest.mark.parametrize("char", sorted(GSM7_EXTENSION))
def test_extension_characters_count_two(char: str) -> None:
    facts = measure_sms(f"Price {char}")
    assert facts.encoding is Encoding.GSM7
    assert facts.characters == 8


def test_eighty_euro_signs_fill_one_segment_and_eighty_one_need_two() -> None:
    assert (measure_sms("€" * 80).characters, measure_sms("€" * 80).segments) == (160, 1)
    assert (measure_sms("€" * 81).characters, measure_sms("€" * 81).segments) == (162, 2)


def test_an_escape_pair_is_never_split_across_parts() -> None:
    # 152 plain septets then "[": the pair would straddle the 153 boundary, so it moves to part two
    text = "a" * 152 + "[" + "a" * 152
    facts = measure_sms(text)
    assert facts.characters == 306  # exactly 2 x 153 septets ...
    assert facts.segments == 3  # ... yet three parts, as a phone would send it
    assert measure_sms("a" * 151 + "[" + "a" * 153).segments == 2


def test_a_surrogate_pair_is_never_split_across_parts() -> None:
    text = "ж" * 66 + "😀" + "ж" * 66
    facts = measure_sms(text)
    assert (facts.encoding, facts.characters) == (Encoding.UCS2, 134)
    assert facts.segments == 3


def test_ucs2_counts_utf16_code_units() -> None:
    facts = measure_sms("😀" * 35)
    assert (facts.encoding, facts.characters, facts.segments) == (Encoding.UCS2, 70, 1)
    assert measure_sms("😀" * 36).segments == 2


@pytest.mark.parametrize("text", ["Hi `you`", "tab\there", "Ünïcode ï", "ça va", "Hello 👋"])
def test_characters_outside_gsm7_switch_the_whole_message_to_ucs2(text: str) -> None:
    assert measure_sms(text).encoding is Encoding.UCS2


@pytest.mark.parametrize("text", ["Ça coûte 5€", "Grüße aus Köln", "¿Qué tal? ¡Hola!", "ΔΦΓ {x} [y] ~ ^ | \\"])
def test_accented_and_greek_letters_of_the_gsm_tables_stay_gsm7(text: str) -> None:
    assert measure_sms(text.replace("û", "u")).encoding is Encoding.GSM7


def test_whatsapp_counts_characters_in_one_message() -> None:
    facts = measure("Olá 👋 {}[]", Channel.WHATSAPP)
    assert (facts.encoding, facts.characters, facts.segments, facts.violations) == (Encoding.UNICODE, 10, 1, ())


def test_whatsapp_reports_a_violation_over_4096_characters() -> None:
    assert measure_whatsapp("a" * 4096).violations == ()
    facts = measure_whatsapp("a" * 4097)
    assert facts.violations == ("whatsapp message exceeds 4096 characters (4097)",)


def test_an_empty_message_is_a_violation_on_both_channels() -> None:
    assert measure("", Channel.SMS).violations == ("message is empty",)
    assert measure("", Channel.WHATSAPP).violations == ("message is empty",)


def test_an_sms_too_long_to_join_is_a_violation() -> None:
    assert measure_sms("a" * 153 * 255).violations == ()
    assert measure_sms("a" * (153 * 255 + 1)).violations == (
        "sms message needs 256 segments; at most 255 can be joined",
    )
