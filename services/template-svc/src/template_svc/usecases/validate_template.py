"""Check a template without rendering it: the placeholders it uses and every error with its position."""

from __future__ import annotations

from template_svc.domain.template_language import ParsedTemplate, parse_template


def validate_template(template: str) -> ParsedTemplate:
    """Parse the template and report what it uses and what is wrong with it; never raises."""
    return parse_template(template)
