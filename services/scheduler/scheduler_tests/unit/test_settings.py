"""The scheduler's API key setting: refused when it is not one token, without echoing it."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError
from scheduler.settings import Settings

KEY = "cdk_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"


def test_a_key_is_kept_secret_in_the_settings_repr() -> None:
    settings = Settings(scheduler_api_key=SecretStr(KEY))
    assert settings.scheduler_api_key is not None and settings.scheduler_api_key.get_secret_value() == KEY
    assert KEY not in repr(settings) and KEY not in str(settings.model_dump())


def test_a_key_that_is_not_one_token_is_refused_without_being_echoed() -> None:
    pasted = f'{{"message": "api key created"}}\n{KEY}'
    with pytest.raises(ValidationError) as refused:
        Settings(scheduler_api_key=pasted)  # the environment gives a str
    assert "SCHEDULER_API_KEY" in str(refused.value)
    assert KEY not in str(refused.value)


def test_outside_development_the_key_is_required() -> None:
    with pytest.raises(ValidationError, match="SCHEDULER_API_KEY"):
        Settings(deployment_environment="production")
    assert Settings(deployment_environment="production", scheduler_api_key=SecretStr(KEY)).scheduler_api_key
