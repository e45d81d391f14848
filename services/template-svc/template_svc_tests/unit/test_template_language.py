"""The template language: placeholders, fallbacks, literal braces, the tidy rule and error positions."""

from __future__ import annotations

import itertools

import pytest
from template_svc.domain.template_language import (
    FIELDS,
    TemplateErrorCode,
    compile_template,
    join_tidily,
    parse_template,
)
from template_svc.errors import InvalidTemplate

ANN = {
    "first_name": "Ann",
    "last_name": "Lee",
    "phone": "+351910000000",
    "location": "Lisbon",
    "preferred_product": "Espresso",
}


def render(template: str, **fields: str | None) -> str:
    return compile_template(template).render(fields)


def test_every_field_is_filled_in() -> None:
    template = "{first_name} {last_name} {phone} {location} {preferred_product}"
    assert compile_template(template).render(ANN) == "Ann Lee +351910000000 Lisbon Espresso"


@pytest.mark.parametrize(
    "present",
    [combo for size in range(len(FIELDS) + 1) for combo in itertools.combinations(FIELDS, size)],
)
def test_any_combination_of_present_fields_renders_tidily(present: tuple[str, ...]) -> None:
    template = "Hi {first_name} {last_name}, your {preferred_product} waits in {location}. Call {phone}!"
    fields = {name: (ANN[name] if name in present else None) for name in FIELDS}
    text = compile_template(template).render(fields)
    for name in FIELDS:
        assert (ANN[name] in text) == (name in present)
    assert "  " not in text
    assert " ," not in text and " ." not in text and " !" not in text
    assert text == text.strip()
    assert "{" not in text and "}" not in text


@pytest.mark.parametrize("missing", [None, "", "   ", "\t\n"])
def test_null_empty_and_blank_fields_use_the_fallback(missing: str | None) -> None:
    assert render("Hi {first_name|there}!", first_name=missing) == "Hi there!"


def test_a_present_field_wins_over_its_fallback_and_is_trimmed() -> None:
    assert render("Hi {first_name|there}!", first_name="  Zoë ") == "Hi Zoë!"


def test_fallback_may_hold_spaces_and_punctuation() -> None:
    assert render("{preferred_product|our new range, in store}.", preferred_product=None) == "our new range, in store."


def test_spaces_around_name_and_fallback_are_ignored() -> None:
    assert render("Hi { first_name | friend }!", first_name=None) == "Hi friend!"
    assert render("Hi { first_name | friend }!", first_name="Bo") == "Hi Bo!"


def test_a_field_missing_from_the_mapping_counts_as_missing() -> None:
    assert compile_template("Hi {first_name}, welcome").render({}) == "Hi, welcome"


def test_unicode_values_and_templates_render_unchanged() -> None:
    assert render("Olá {first_name} 👋 — {location}", first_name="José", location="São Paulo") == (
        "Olá José 👋 — São Paulo"
    )
    assert render("{first_name}さん、こんにちは", first_name="ユキ") == "ユキさん、こんにちは"


def test_doubled_braces_are_literal_braces() -> None:
    assert render("{{first_name}} is {first_name}; use {{ and }}", first_name="Ann") == (
        "{first_name} is Ann; use { and }"
    )


def test_field_values_are_inserted_verbatim_never_interpreted() -> None:
    assert render("Hi {first_name}", first_name="{last_name} {{x}} %s __class__") == "Hi {last_name} {{x}} %s __class__"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hi {first_name}, welcome!", "Hi, welcome!"),
        ("Hi {first_name} , welcome!", "Hi, welcome!"),
        ("Dear {first_name} {last_name}, hello", "Dear, hello"),
        ("Hello {first_name} {last_name}!", "Hello!"),
        ("{first_name} welcome back", "welcome back"),
        ("  {first_name} welcome", "welcome"),
        ("Thanks {first_name}", "Thanks"),
        ("Thanks {first_name}   ", "Thanks"),
        ("See you in {location} soon", "See you in soon"),
        ("See you in   {location}   soon", "See you in soon"),
        ("Hi {first_name}\nThanks", "Hi\nThanks"),
        ("Hi {first_name}?", "Hi?"),
        ("a {first_name}; b {last_name}: c", "a; b: c"),
        ("{first_name}{last_name}", ""),
        ("Hi{first_name}!", "Hi!"),
    ],
)
def test_spaces_left_by_missing_fields_are_tidied(template: str, expected: str) -> None:
    assert render(template) == expected


def test_tidying_leaves_text_away_from_empty_placeholders_alone() -> None:
    assert render("Hi  {first_name}  ,  see {location} !", first_name="Ann") == "Hi  Ann  ,  see!"
    assert render("  Hi {first_name}  ", first_name="Ann") == "  Hi Ann  "


def test_join_tidily_merges_spaces_across_consecutive_gaps() -> None:
    assert join_tidily(["Hi ", "", " ", "", " there"]) == "Hi there"


@pytest.mark.parametrize(
    ("template", "code", "position", "placeholder"),
    [
        ("Hi {frist_name}!", TemplateErrorCode.UNKNOWN_PLACEHOLDER, 3, "frist_name"),
        ("Hi {first_name.__class__}", TemplateErrorCode.UNKNOWN_PLACEHOLDER, 3, "first_name.__class__"),
        ("Hi {First_Name}", TemplateErrorCode.UNKNOWN_PLACEHOLDER, 3, "First_Name"),
        ("Hi {}", TemplateErrorCode.EMPTY_PLACEHOLDER, 3, ""),
        ("Hi { |friend}", TemplateErrorCode.EMPTY_PLACEHOLDER, 3, ""),
        ("Hi {first_name", TemplateErrorCode.UNBALANCED_BRACE, 3, ""),
        ("Hi {first_name {last_name}", TemplateErrorCode.UNBALANCED_BRACE, 3, ""),
        ("Hi first_name}", TemplateErrorCode.UNBALANCED_BRACE, 13, ""),
        ("{{first_name}", TemplateErrorCode.UNBALANCED_BRACE, 12, ""),
        ("ok {first_name}}", TemplateErrorCode.UNBALANCED_BRACE, 15, ""),
    ],
)
def test_invalid_templates_report_code_position_and_placeholder(
    template: str, code: TemplateErrorCode, position: int, placeholder: str
) -> None:
    parsed = parse_template(template)
    assert not parsed.is_valid
    first = parsed.errors[0]
    assert (first.code, first.position, first.placeholder) == (code, position, placeholder)
    assert str(position) in first.message
    with pytest.raises(InvalidTemplate) as raised:
        compile_template(template)
    assert raised.value.errors == parsed.errors


def test_every_error_is_reported_in_order_of_position() -> None:
    parsed = parse_template("{nope} and {} and } and {first_name} and {also_bad")
    assert [(e.code, e.position) for e in parsed.errors] == [
        (TemplateErrorCode.UNKNOWN_PLACEHOLDER, 0),
        (TemplateErrorCode.EMPTY_PLACEHOLDER, 11),
        (TemplateErrorCode.UNBALANCED_BRACE, 18),
        (TemplateErrorCode.UNBALANCED_BRACE, 41),
    ]
    assert parsed.placeholders == ("first_name",)


def test_placeholders_are_listed_once_in_order_of_first_use() -> None:
    parsed = parse_template("{location} {first_name} {location|here} {{phone}}")
    assert parsed.is_valid
    assert parsed.placeholders == ("location", "first_name")


def test_a_template_without_placeholders_renders_as_written() -> None:
    assert compile_template("Sale ends Friday!").render({}) == "Sale ends Friday!"
    assert compile_template("").render(ANN) == ""
