"""The compliance rules without a database: keyword normalisation and the opt-out instruction check."""

from __future__ import annotations

import pytest
from campaign_api.compliance import ComplianceSettings, KeywordAction, normalise_keyword
from dispatch.lifecycle import Category, Channel


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("STOP", "STOP"),
        ("stop", "STOP"),
        ("  Stop!\n", "STOP"),
        ("s-t-o-p", "STOP"),
        ("Stop all", "STOPALL"),
        ("\uff33\uff34\uff2f\uff30", "STOP"),
        ("opt out.", "OPTOUT"),
        ("?!", ""),
    ],
)
def test_keywords_are_compared_without_case_spacing_or_punctuation(text: str, word: str) -> None:
    assert normalise_keyword(text) == word


def test_only_a_whole_keyword_acts() -> None:
    settings = ComplianceSettings()
    assert settings.keyword_action("Stop please") is None
    assert settings.keyword_action("unstop") is KeywordAction.START
    assert settings.keyword_action("...") is None


def test_the_opt_out_text_binds_promotional_sms_only_and_only_once_set() -> None:
    rule = ComplianceSettings(opt_out_text="STOP*456*9*5#")
    assert rule.missing_opt_out("Hi", Channel.SMS, Category.PROMOTIONAL) == "STOP*456*9*5#"
    assert rule.missing_opt_out("Hi. Opt out:  stop*456*9*5#", Channel.SMS, Category.PROMOTIONAL) is None
    assert rule.missing_opt_out("Hi", Channel.SMS, Category.TRANSACTIONAL) is None
    assert rule.missing_opt_out("Hi", Channel.WHATSAPP, Category.PROMOTIONAL) is None
    assert ComplianceSettings().missing_opt_out("Hi", Channel.SMS, Category.PROMOTIONAL) is None
    off = ComplianceSettings(opt_out_text="STOP*456*9*5#", opt_out_required=False)
    assert off.missing_opt_out("Hi", Channel.SMS, Category.PROMOTIONAL) is None
