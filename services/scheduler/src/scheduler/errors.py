"""Failures talking to campaign-api; each carries the ErrorKind it is counted under."""

from __future__ import annotations

from scheduler.domain import ErrorKind


class SchedulerError(Exception):
    """A failure the tick records and retries on the next tick."""

    kind: ErrorKind = ErrorKind.INTERNAL


class CampaignApiUnavailable(SchedulerError):
    """campaign-api did not answer, timed out, or answered 5xx."""

    kind = ErrorKind.UNAVAILABLE


class UnexpectedResponse(SchedulerError):
    """campaign-api answered outside the contract (status, error code or body)."""

    kind = ErrorKind.UNEXPECTED_RESPONSE
