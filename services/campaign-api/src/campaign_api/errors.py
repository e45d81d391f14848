"""The error hierarchy of campaign-api: each error carries a stable UPPER_SNAKE code; adapters map kinds once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime


class CampaignApiError(Exception):
    """Base of every error this service raises on purpose."""

    code = "INTERNAL_ERROR"


class NotFound(CampaignApiError):
    """The thing asked for does not exist (404)."""

    code = "NOT_FOUND"


class Conflict(CampaignApiError):
    """The request clashes with the current state (409)."""

    code = "CONFLICT"


class InvalidInput(CampaignApiError):
    """The request is well-formed but its content is unacceptable (422)."""

    code = "VALIDATION_ERROR"


class DependencyUnavailable(CampaignApiError):
    """A service this one needs did not answer in time (503)."""

    code = "DEPENDENCY_UNAVAILABLE"


class CampaignNotFound(NotFound):
    code = "CAMPAIGN_NOT_FOUND"

    def __init__(self, campaign_id: int) -> None:
        super().__init__(f"Campaign with ID {campaign_id} not found")


class CustomerNotFound(NotFound):
    code = "CUSTOMER_NOT_FOUND"

    def __init__(self, customer_id: int) -> None:
        super().__init__(f"Customer with ID {customer_id} not found")


class CampaignNotSendable(Conflict):
    code = "CAMPAIGN_NOT_SENDABLE"

    def __init__(self, campaign_id: int, status: str) -> None:
        super().__init__(f"Campaign {campaign_id} is {status}; only draft or scheduled campaigns can be sent")


class CampaignNotEditable(Conflict):
    code = "CAMPAIGN_NOT_EDITABLE"

    def __init__(self, campaign_id: int, status: str) -> None:
        super().__init__(f"Campaign {campaign_id} is {status}; only draft or scheduled campaigns can be edited")


class CampaignNotCancellable(Conflict):
    code = "CAMPAIGN_NOT_CANCELLABLE"

    def __init__(self, campaign_id: int, status: str) -> None:
        super().__init__(f"Campaign {campaign_id} is {status}; only scheduled campaigns can be cancelled")


class CustomerPhoneExists(Conflict):
    code = "CUSTOMER_PHONE_EXISTS"

    def __init__(self, phone: str) -> None:
        super().__init__(f"A customer with phone {phone} already exists")


class ScheduledAtInPast(InvalidInput):
    code = "SCHEDULED_AT_IN_PAST"

    def __init__(self, scheduled_at: datetime) -> None:
        when = scheduled_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        super().__init__(f"body.scheduled_at: {when} is in the past; a draft has no scheduled_at")


class InvalidTemplate(InvalidInput):
    code = "INVALID_TEMPLATE"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.reason = reason


class InvalidPhone(InvalidInput):
    code = "INVALID_PHONE"

    def __init__(self, reason: str) -> None:
        super().__init__(f"body.phone: {reason}")


class UnknownCustomers(InvalidInput):
    code = "UNKNOWN_CUSTOMERS"

    def __init__(self, count: int, sample: Sequence[int]) -> None:
        more = f" (first {len(sample)} shown)" if count > len(sample) else ""
        listed = ", ".join(str(customer_id) for customer_id in sample)
        super().__init__(f"{count} unknown customer id(s){more}: {listed}; nothing was queued")
        self.count = count
        self.sample = tuple(sample)


class AudienceRequired(InvalidInput):
    code = "AUDIENCE_REQUIRED"

    def __init__(self, campaign_id: int) -> None:
        super().__init__(f"Campaign {campaign_id} has no stored audience: send it with body.customer_ids")


class AudienceEmpty(InvalidInput):
    code = "AUDIENCE_EMPTY"

    def __init__(self, campaign_id: int) -> None:
        super().__init__(
            f"Campaign {campaign_id}: the audience matches no customer (or every one already has a message);"
            " nothing was queued"
        )


class IdempotencyKeyReused(InvalidInput):
    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} was already used with a different request body")


class TemplateServiceUnavailable(DependencyUnavailable):
    code = "TEMPLATE_SERVICE_UNAVAILABLE"

    def __init__(self, reason: str) -> None:
        super().__init__(f"template-svc did not answer: {reason}")


class DatabaseUnavailable(DependencyUnavailable):
    code = "DATABASE_UNAVAILABLE"

    def __init__(self, reason: str = "the database did not answer in time") -> None:
        super().__init__(reason)
