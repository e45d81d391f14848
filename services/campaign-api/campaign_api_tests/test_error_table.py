"""docs/api.md's error table lists every code the API can answer, with the status it answers it with."""

from __future__ import annotations

import re
from pathlib import Path

from campaign_api.api.errors import CODE_BY_HTTP_STATUS, STATUS_BY_KIND
from campaign_api.errors import CampaignApiError

# codes the HTTP edge answers itself, beside the error classes
EDGE_CODES = {
    ("MALFORMED_JSON", 400),
    ("DUPLICATE_JSON_KEY", 400),
    ("VALIDATION_ERROR", 422),
    ("INTERNAL_ERROR", 500),
    *((code, status) for status, code in CODE_BY_HTTP_STATUS.items()),
}
ROW = re.compile(r"^\| (\d{3}) \| (.+?) \| .+ \|$")


def leaf_errors(kind: type[CampaignApiError]) -> list[type[CampaignApiError]]:
    """The error classes raised: those nothing inherits from."""
    children = kind.__subclasses__()
    return [leaf for child in children for leaf in leaf_errors(child)] if children else [kind]


def documented(repo_root: Path) -> set[tuple[str, int]]:
    """(code, status) for each code of each row of the Errors table."""
    section = (repo_root / "docs" / "api.md").read_text().split("## Errors", 1)[1].split("\n## ", 1)[0]
    rows = [ROW.match(line) for line in section.splitlines()]
    return {(code, int(row[1])) for row in rows if row for code in re.findall(r"`([A-Z_]+)`", row[2])}


def test_every_code_the_api_answers_is_in_the_error_table_with_its_status(repo_root: Path) -> None:
    answered = set(EDGE_CODES)
    for error in leaf_errors(CampaignApiError):
        status = next(s for kind, s in STATUS_BY_KIND.items() if issubclass(error, kind))
        answered.add((error.code, status))
    assert answered - documented(repo_root) == set()


def test_the_error_table_lists_no_code_the_api_cannot_answer(repo_root: Path) -> None:
    answered = {code for code, _ in EDGE_CODES} | {error.code for error in leaf_errors(CampaignApiError)}
    assert {code for code, _ in documented(repo_root)} - answered == set()
