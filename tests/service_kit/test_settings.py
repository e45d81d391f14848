"""Typed connection strings and the refusal of placeholder secrets outside development."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from service_kit.settings import DEFAULT_AMQP_URL, DEFAULT_DATABASE_URL, BrokerUrl, DatabaseUrl, ServiceSettings


class Settings(ServiceSettings):
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL
    amqp_url: BrokerUrl = DEFAULT_AMQP_URL


def test_the_local_defaults_are_accepted_for_development() -> None:
    settings = Settings()
    assert str(settings.database_url).startswith("postgresql://") and settings.is_dev


@pytest.mark.parametrize(
    "fields",
    [
        {"amqp_url": "amqp://guest:guest@rabbitmq:5672/", "database_url": "postgresql://app:s3cr3t-x@db/app"},
        {"amqp_url": "amqp://app:s3cr3t-x@rabbitmq:5672/", "database_url": "postgresql://app:changeme@db/app"},
    ],
)
def test_a_placeholder_password_is_refused_in_production(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="placeholder password is refused"):
        Settings(deployment_environment="production", **fields)  # type: ignore[arg-type]


def test_real_secrets_are_accepted_in_production() -> None:
    settings = Settings(
        deployment_environment="production",
        amqp_url="amqp://app:s3cr3t-x@rabbitmq:5672/",  # type: ignore[arg-type]
        database_url="postgresql://app:s3cr3t-y@db:5432/app",  # type: ignore[arg-type]
    )
    assert settings.amqp_url.password == "s3cr3t-x"


def test_a_database_url_libpq_cannot_read_is_refused() -> None:
    with pytest.raises(ValidationError, match="URL scheme"):
        Settings(database_url="mysql://app@db/app")  # type: ignore[arg-type]
