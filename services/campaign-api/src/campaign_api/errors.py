"""The error hierarchy of campaign-api: each error carries a stable UPPER_SNAKE code; adapters map kinds once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType


class CampaignApiError(Exception):
    """Base of every error this service raises on purpose."""

    code = "INTERNAL_ERROR"
    # response headers the answer must carry (WWW-Authenticate, Retry-After)
    headers: Mapping[str, str] = MappingProxyType({})


class Unauthenticated(CampaignApiError):
    """No API key, or one that is unknown or revoked (401)."""

    code = "UNAUTHENTICATED"
    headers: Mapping[str, str] = MappingProxyType({"WWW-Authenticate": "Bearer"})


class Forbidden(CampaignApiError):
    """The key is valid but lacks the scope the operation needs (403)."""

    code = "FORBIDDEN"

    def __init__(self, needed: Sequence[str]) -> None:
        super().__init__(f"this API key lacks the scope {' or '.join(needed)}")


class RateLimited(CampaignApiError):
    """Too many requests for a limit (429); retry after the given seconds."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.headers = MappingProxyType({"Retry-After": str(retry_after_s)})


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


class AccountNotFound(NotFound):
    code = "ACCOUNT_NOT_FOUND"

    def __init__(self, account: str) -> None:
        super().__init__(f"Account {account} not found")


class AccountExists(Conflict):
    code = "ACCOUNT_EXISTS"

    def __init__(self, name: str) -> None:
        super().__init__(f"An account named {name!r} already exists")


class ApiKeyNotFound(NotFound):
    code = "API_KEY_NOT_FOUND"

    def __init__(self, key_id: int) -> None:
        super().__init__(f"API key with ID {key_id} not found")


class ScopeNotAllowed(InvalidInput):
    code = "SCOPE_NOT_ALLOWED"

    def __init__(self, scope: str) -> None:
        super().__init__(f"body.scopes: {scope} belongs to the system key only; an account's key cannot hold it")


class CampaignNotDue(Conflict):
    code = "CAMPAIGN_NOT_DUE"

    def __init__(self, campaign_id: int) -> None:
        super().__init__(f"Campaign {campaign_id} is not a scheduled campaign whose time has come")


class RecipientQuotaExceeded(CampaignApiError):
    """The account's recipients in the last 24 hours would pass its quota (429)."""

    code = "RECIPIENT_QUOTA_EXCEEDED"

    def __init__(self, quota: int, used: int, wanted: int) -> None:
        super().__init__(
            f"this send would queue {wanted} message(s) but the account has used {used} of its {quota} recipients"
            " in the last 24 hours; nothing was queued"
        )
        self.headers = MappingProxyType({"Retry-After": "3600"})


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
        super().__init__(
            f"Campaign {campaign_id} is {status}; only scheduled, sending or paused campaigns can be cancelled"
        )


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


# ---- compliance (issue 15): opt-outs, the opt-out instruction ---------------------------------------------------


class OptOutTextMissing(InvalidInput):
    """A promotional SMS template without the account's opt-out instruction, while the account requires it."""

    code = "OPT_OUT_TEXT_MISSING"

    def __init__(self, field: str, text: str) -> None:
        super().__init__(
            f"{field}: a promotional SMS must carry the account's opt-out instruction {text!r}; add it to the"
            " template, make the campaign transactional, or turn opt_out_required off in /account/compliance"
        )


class SuppressionExists(Conflict):
    code = "SUPPRESSION_EXISTS"

    def __init__(self, channel: str | None) -> None:
        super().__init__(f"This phone is already suppressed on {channel or 'every channel'}")


class SuppressionNotFound(NotFound):
    code = "SUPPRESSION_NOT_FOUND"

    def __init__(self, suppression_id: int) -> None:
        super().__init__(f"Suppression {suppression_id} not found")


# --- contacts: imports, attributes, segments, erasure ---


class PayloadTooLarge(CampaignApiError):
    """A body over a limit (413)."""

    code = "PAYLOAD_TOO_LARGE"


class ImportTooLarge(PayloadTooLarge):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the CSV file exceeds {max_bytes} bytes; split it into smaller files")


class ImportTooManyRows(InvalidInput):
    code = "IMPORT_TOO_MANY_ROWS"

    def __init__(self, max_rows: int) -> None:
        super().__init__(f"the CSV file has more than {max_rows} rows; split it into smaller files")


class ImportFileInvalid(InvalidInput):
    code = "IMPORT_FILE_INVALID"

    def __init__(self, reason: str) -> None:
        super().__init__(f"file: {reason}")


class CustomerImportNotFound(NotFound):
    code = "CUSTOMER_IMPORT_NOT_FOUND"

    def __init__(self, import_id: int) -> None:
        super().__init__(f"Customer import with ID {import_id} not found")


class AttributeExists(Conflict):
    code = "ATTRIBUTE_EXISTS"

    def __init__(self, name: str) -> None:
        super().__init__(f"An attribute named {name!r} is already declared")


class InvalidAttributes(InvalidInput):
    code = "INVALID_ATTRIBUTES"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")


class SegmentNotFound(NotFound):
    code = "SEGMENT_NOT_FOUND"

    def __init__(self, segment_id: int) -> None:
        super().__init__(f"Segment with ID {segment_id} not found")


class SegmentExists(Conflict):
    code = "SEGMENT_EXISTS"

    def __init__(self, name: str) -> None:
        super().__init__(f"A segment named {name!r} already exists")


class AudienceSegmentMissing(InvalidInput):
    code = "AUDIENCE_SEGMENT_MISSING"

    def __init__(self, campaign_id: int, segment_id: int) -> None:
        super().__init__(f"Campaign {campaign_id}: its audience names segment {segment_id}, which does not exist")


# ---- operator controls: pause, resume, cancel while sending, dead-letter replay, retry of failures ------------


class CampaignNotPausable(Conflict):
    code = "CAMPAIGN_NOT_PAUSABLE"

    def __init__(self, campaign_id: int, status: str) -> None:
        super().__init__(f"Campaign {campaign_id} is {status}; only a sending campaign can be paused")


class CampaignNotResumable(Conflict):
    code = "CAMPAIGN_NOT_RESUMABLE"

    def __init__(self, campaign_id: int, status: str) -> None:
        super().__init__(f"Campaign {campaign_id} is {status}; only a paused campaign can be resumed")


class CampaignNotRetryable(Conflict):
    code = "CAMPAIGN_NOT_RETRYABLE"

    def __init__(self, campaign_id: int, status: str) -> None:
        super().__init__(
            f"Campaign {campaign_id} is {status}; only a sending, paused, sent or failed campaign's failures can be"
            " sent again"
        )


class ReplayFilterRequired(InvalidInput):
    code = "REPLAY_FILTER_REQUIRED"

    def __init__(self) -> None:
        super().__init__("body: name the dead letters to replay: message_ids, campaign_id or reason")
