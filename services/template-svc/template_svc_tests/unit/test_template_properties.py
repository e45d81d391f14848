"""Properties that hold for any field values and any valid template."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from template_svc.domain.message_facts import Channel, measure
from template_svc.domain.template_language import FIELDS, compile_template, parse_template

# text a proto string can carry: UTF-8, so never a lone surrogate
proto_text = st.text(st.characters(codec="utf-8"))
field_values = st.one_of(st.none(), proto_text, st.sampled_from(["", " ", "  a  ", "{first_name}", "}{", "{{", "|"]))
customers = st.fixed_dictionaries({name: field_values for name in FIELDS})
# literal text that is neither a brace nor the start of one
plain_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="{}"), max_size=20)
placeholder = st.builds(
    lambda name, fallback: f"{{{name}|{fallback}}}" if fallback else f"{{{name}}}",
    st.sampled_from(FIELDS),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="{}|"), max_size=10),
)
literal_brace = st.sampled_from(["{{", "}}"])
templates = st.lists(st.one_of(plain_text, placeholder, literal_brace), max_size=12).map("".join)


@given(templates, customers)
def test_rendering_never_raises_for_any_field_values(template: str, fields: dict[str, str | None]) -> None:
    text = compile_template(template).render(fields)
    assert isinstance(text, str)
    measure(text, Channel.SMS)
    measure(text, Channel.WHATSAPP)


@given(st.lists(st.one_of(plain_text, placeholder), max_size=12).map("".join), customers)
def test_output_never_contains_placeholder_syntax_of_the_template(template: str, fields: dict[str, str | None]) -> None:
    safe_fields = {
        name: (value.replace("{", "").replace("}", "") if value else value) for name, value in fields.items()
    }
    text = compile_template(template).render(safe_fields)
    assert "{" not in text
    assert "}" not in text


@given(st.lists(st.one_of(plain_text, literal_brace), max_size=12), customers)
def test_literal_braces_survive_rendering(parts: list[str], fields: dict[str, str | None]) -> None:
    template = "".join(parts)
    text = compile_template(template).render(fields)
    assert text == template.replace("{{", "{").replace("}}", "}")


@given(st.text(st.characters(codec="utf-8"), max_size=40))
def test_parsing_any_text_never_raises_and_errors_point_into_the_template(template: str) -> None:
    parsed = parse_template(template)
    for error in parsed.errors:
        assert 0 <= error.position < len(template)
        assert template[error.position] in "{}"
