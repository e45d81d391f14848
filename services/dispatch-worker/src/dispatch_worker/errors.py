"""Errors of the dispatch worker, each with a stable code; the consumer maps them to ack, retry or DLQ."""

from __future__ import annotations


class WorkerError(Exception):
    """Base of the worker's errors."""

    code = "INTERNAL_ERROR"


class PlatformUnavailable(WorkerError):
    """A dependency of the platform (template-svc, PostgreSQL) did not answer: not the message's fault."""

    code = "PLATFORM_UNAVAILABLE"


class TemplateUnavailable(PlatformUnavailable):
    """template-svc did not answer in time."""

    code = "TEMPLATE_SVC_UNAVAILABLE"


class DatabaseUnavailable(PlatformUnavailable):
    """PostgreSQL did not answer."""

    code = "DATABASE_UNAVAILABLE"


class InvalidTemplate(WorkerError):
    """template-svc refused the campaign's template: no retry can fix it."""

    code = "INVALID_TEMPLATE"
