"""The scheduler's scheduling scenarios (services/scheduler/scheduler_tests) played against the real campaign-api."""

from __future__ import annotations

from scheduler_tests.integration.test_scheduling import (
    test_a_due_campaign_is_dispatched_within_seconds_and_a_future_one_is_untouched,
    test_a_due_campaign_without_audience_is_failed_with_a_reason_and_counted,
    test_campaigns_that_fell_due_while_no_scheduler_ran_are_sent_when_one_starts,
    test_ready_follows_campaign_api_and_health_does_not,
    test_two_schedulers_dispatch_each_campaign_exactly_once,
)

__all__ = [
    "test_a_due_campaign_is_dispatched_within_seconds_and_a_future_one_is_untouched",
    "test_a_due_campaign_without_audience_is_failed_with_a_reason_and_counted",
    "test_campaigns_that_fell_due_while_no_scheduler_ran_are_sent_when_one_starts",
    "test_ready_follows_campaign_api_and_health_does_not",
    "test_two_schedulers_dispatch_each_campaign_exactly_once",
]
