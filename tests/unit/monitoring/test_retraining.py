"""The retrain rule: a failed champion check asks for a retrain, once per cooldown."""

from datetime import UTC, datetime, timedelta

from refill_assets.monitoring.retraining import (
    MONITORING,
    REASON_TAG,
    REQUESTED_BY_TAG,
    Failure,
    decide,
)

NOW = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
LATE = Failure("monitoring/performance_daily:late_share", "late_share 0.66; band 0.4–0.6")


def test_no_failure_no_retrain():
    decision = decide([], None, NOW)
    assert not decision.request
    assert "passed" in decision.reason


def test_a_failure_requests_a_retrain_with_the_reason_in_its_tags():
    decision = decide([LATE], None, NOW)
    assert decision.request
    tags = decision.tags("night-1")
    assert tags[REQUESTED_BY_TAG] == MONITORING
    assert "late_share 0.66" in tags[REASON_TAG]
    assert tags["refill/after_run"] == "night-1"


def test_the_cooldown_holds_a_second_request_and_says_until_when():
    held = decide([LATE], NOW - timedelta(days=6, hours=23), NOW)
    assert not held.request
    assert "cooling down until 2026-03-01" in held.reason and "late_share" in held.reason
    assert decide([LATE], NOW - timedelta(days=7), NOW).request
    assert not decide([LATE], NOW - timedelta(days=1), NOW, cooldown_days=2).request
    assert decide([LATE], NOW - timedelta(days=3), NOW, cooldown_days=2).request
