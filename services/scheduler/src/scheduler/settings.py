"""The scheduler's settings, read from the environment once by main.py."""

from __future__ import annotations

import re
from typing import Final

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict
from service_kit.settings import ServiceSettings

KEY_CHARACTERS: Final = re.compile(r"[A-Za-z0-9_-]{16,200}")


class Settings(ServiceSettings):
    """Where campaign-api answers and how often to ask it for due campaigns."""

    # a refused setting's error must not echo its value: it may be the key
    model_config = SettingsConfigDict(hide_input_in_errors=True)

    service_name: str = "scheduler"
    probe_port: int = Field(default=8083, ge=0, le=65535)  # env PROBE_PORT; 0 picks a free port
    campaign_api_url: str = "http://localhost:8080"  # env CAMPAIGN_API_URL
    # one poll a second keeps dispatch well within 5 s of scheduled_at; the due listing is one indexed query
    poll_interval_s: float = Field(default=1.0, gt=0)  # env POLL_INTERVAL_S
    # +/- this fraction of the interval, so several replicas do not poll in lockstep
    poll_jitter: float = Field(default=0.1, ge=0, lt=1)  # env POLL_JITTER
    # a send resolves a whole segment in one statement; a large one may take seconds
    request_timeout_s: float = Field(default=30.0, gt=0)  # env REQUEST_TIMEOUT_S
    batch_limit: int = Field(default=100, ge=1, le=500)  # env BATCH_LIMIT; the API caps the due listing at 500
    max_concurrent_dispatches: int = Field(default=4, ge=1, le=64)  # env MAX_CONCURRENT_DISPATCHES
    # env SCHEDULER_API_KEY (from a Secret in Kubernetes): the system key `campaign-api keys create --system` prints;
    # it may list every account's due campaigns and send a campaign only when it is due, nothing else
    scheduler_api_key: SecretStr | None = None

    @field_validator("scheduler_api_key")
    @classmethod
    def key_is_one_token(cls, key: SecretStr | None) -> SecretStr | None:
        """A key is URL-safe characters only: anything else (a pasted log line, a newline) would be sent in a header
        that fails, and the failure's message would carry the key into the logs."""
        if key is not None and not KEY_CHARACTERS.fullmatch(key.get_secret_value()):
            raise ValueError("SCHEDULER_API_KEY: not an API key (letters, digits, '-' and '_' only)")
        return key

    @model_validator(mode="after")
    def require_api_key(self) -> Settings:
        """campaign-api refuses every call without a key: outside development a missing one is a deployment mistake."""
        if self.scheduler_api_key is None and not self.is_dev:
            raise ValueError(
                "SCHEDULER_API_KEY: required in environment"
                f" {self.deployment_environment!r} (create it with `campaign-api keys create --system`)"
            )
        return self
