"""The platform's budget against moto in server mode: created as configured, idempotent.

moto 5.2.5's Budgets has no ``UpdateBudget`` and no ``DescribeSubscribersForNotification``
(it keeps a notification's subscribers but cannot say them): the two are patched onto its
response class below, the server running in this process. Everything else (create, describe,
the notifications' create/delete/describe) is moto's own. Each call the client makes is
recorded through botocore's event hooks, so that "no write call" is checked, not assumed.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import boto3
import pytest
from moto.budgets.exceptions import NotFoundException
from moto.budgets.responses import BudgetsResponse
from moto.core.utils import unix_time

from refill_assets.deploy.budget import DEFAULT_LIMIT_USD, BudgetConfig, ensure_budget

WRITES = ("Create", "Update", "Delete")


def _update_budget(self) -> str:
    """``UpdateBudget``: AWS replaces the budget by ``NewBudget``; its notifications stay."""
    new = self._get_param("NewBudget")
    budgets = self.backend.budgets[self._get_param("AccountId")]
    if new["BudgetName"] not in budgets:
        raise NotFoundException(f"Unable to update budget: {new['BudgetName']}")
    budget = budgets[new["BudgetName"]]
    budget.budget = {"TimePeriod": budget.budget["TimePeriod"], **new}
    budget.budget["LastUpdatedTime"] = unix_time()
    return json.dumps({})


def _identity(notification: dict) -> tuple:
    return (
        notification["NotificationType"],
        notification["ComparisonOperator"],
        float(notification["Threshold"]),
        notification.get("ThresholdType", "PERCENTAGE"),
    )


def _describe_subscribers(self) -> str:
    """``DescribeSubscribersForNotification``: the subscribers moto stored with it."""
    budget = self.backend.budgets[self._get_param("AccountId")][self._get_param("BudgetName")]
    wanted = _identity(self._get_param("Notification"))
    for notification in budget.notifications:
        if _identity(notification.details) == wanted:
            return json.dumps({"Subscribers": notification.subscribers})
    raise NotFoundException("Unable to describe subscribers - the notification doesn't exist.")


@pytest.fixture(scope="module")
def aws(endpoint):
    BudgetsResponse.update_budget = _update_budget  # the server runs in this process
    BudgetsResponse.describe_subscribers_for_notification = _describe_subscribers
    yield endpoint
    del BudgetsResponse.update_budget
    del BudgetsResponse.describe_subscribers_for_notification


@pytest.fixture
def budgets(aws, s3):
    client = boto3.client("budgets", endpoint_url=aws, region_name="us-east-1")
    client.calls = []  # the operations it made, in order

    def record(model, **_) -> None:
        client.calls.append(model.name)

    client.meta.events.register("before-call.budgets", record)
    return client


@pytest.fixture
def account(aws, s3) -> str:
    sts = boto3.client("sts", endpoint_url=aws, region_name="us-east-1")
    return sts.get_caller_identity()["Account"]


@pytest.fixture
def config() -> BudgetConfig:
    # the server lives for the module: each test has a budget of its own
    return BudgetConfig(
        name=f"refill-platform-test-{uuid.uuid4().hex[:8]}",
        limit_usd=250.0,
        tags={"CostCenter": "data-platform", "Env": "dev"},
        emails=("ops@example.com", "cto@example.com"),
        sns_topic_arn="arn:aws:sns:us-east-1:123456789012:refill-budget",
    )


def _with(config: BudgetConfig, **over) -> BudgetConfig:
    return BudgetConfig(**{**config.__dict__, **over})


def _notifications(budgets, account: str, name: str) -> dict[tuple, set[tuple[str, str]]]:
    """Each notification of the budget with its subscribers, as the API describes them."""
    listed = budgets.describe_notifications_for_budget(AccountId=account, BudgetName=name)
    found = {}
    for notification in listed["Notifications"]:
        subscribers = budgets.describe_subscribers_for_notification(
            AccountId=account, BudgetName=name, Notification=notification
        )["Subscribers"]
        key = _identity(notification)
        assert key not in found, f"duplicated notification {key}"
        found[key] = {(s["SubscriptionType"], s["Address"]) for s in subscribers}
    return found


def _writes(budgets) -> list[str]:
    return [c for c in budgets.calls if c.startswith(WRITES)]


def test_a_new_budget_has_the_tag_filter_the_limit_and_both_alerts(budgets, account, config):
    outcome = ensure_budget(budgets, account, config)
    assert outcome.action == "created" and outcome.warning is None
    assert outcome.notifications == ("ACTUAL>80%", "FORECASTED>100%")
    budget = budgets.describe_budget(AccountId=account, BudgetName=config.name)["Budget"]
    assert budget["BudgetType"] == "COST" and budget["TimeUnit"] == "MONTHLY"
    assert Decimal(budget["BudgetLimit"]["Amount"]) == 250
    assert budget["BudgetLimit"]["Unit"] == "USD"
    assert budget["CostFilters"] == {
        "TagKeyValue": ["user:CostCenter$data-platform", "user:Env$dev"]
    }
    subscribers = {
        ("EMAIL", "ops@example.com"),
        ("EMAIL", "cto@example.com"),
        ("SNS", "arn:aws:sns:us-east-1:123456789012:refill-budget"),
    }
    assert _notifications(budgets, account, config.name) == {
        ("ACTUAL", "GREATER_THAN", 80.0, "PERCENTAGE"): subscribers,
        ("FORECASTED", "GREATER_THAN", 100.0, "PERCENTAGE"): subscribers,
    }


def test_a_second_call_with_the_same_config_writes_nothing(budgets, account, config):
    ensure_budget(budgets, account, config)
    before = _notifications(budgets, account, config.name)
    budgets.calls.clear()
    outcome = ensure_budget(budgets, account, config)
    assert outcome.action == "unchanged"
    assert outcome.notifications == ("ACTUAL>80%", "FORECASTED>100%")
    assert budgets.calls and _writes(budgets) == []
    assert _notifications(budgets, account, config.name) == before and len(before) == 2
    names = [b["BudgetName"] for b in budgets.describe_budgets(AccountId=account)["Budgets"]]
    assert names.count(config.name) == 1


def test_a_changed_limit_updates_the_budget_and_nothing_else(budgets, account, config):
    ensure_budget(budgets, account, config)
    alerts = _notifications(budgets, account, config.name)
    budgets.calls.clear()
    outcome = ensure_budget(budgets, account, _with(config, limit_usd=400.0))
    assert outcome.action == "updated"
    assert _writes(budgets) == ["UpdateBudget"]
    budget = budgets.describe_budget(AccountId=account, BudgetName=config.name)["Budget"]
    assert Decimal(budget["BudgetLimit"]["Amount"]) == 400
    assert budget["CostFilters"]["TagKeyValue"] == ["user:CostCenter$data-platform", "user:Env$dev"]
    assert _notifications(budgets, account, config.name) == alerts
    assert ensure_budget(budgets, account, _with(config, limit_usd=400.0)).action == "unchanged"


def test_a_changed_env_tag_updates_the_filter(budgets, account, config):
    ensure_budget(budgets, account, config)
    moved = _with(config, tags={"CostCenter": "data-platform", "Env": "prod"})
    assert ensure_budget(budgets, account, moved).action == "updated"
    budget = budgets.describe_budget(AccountId=account, BudgetName=config.name)["Budget"]
    assert budget["CostFilters"]["TagKeyValue"] == [
        "user:CostCenter$data-platform",
        "user:Env$prod",
    ]


def test_a_changed_email_brings_the_notifications_to_the_new_subscribers(budgets, account, config):
    ensure_budget(budgets, account, config)
    changed = _with(config, emails=("finance@example.com",), sns_topic_arn=None)
    outcome = ensure_budget(budgets, account, changed)
    assert outcome.action == "updated"
    assert outcome.notifications == ("ACTUAL>80%", "FORECASTED>100%")
    only = {("EMAIL", "finance@example.com")}
    assert _notifications(budgets, account, config.name) == {
        ("ACTUAL", "GREATER_THAN", 80.0, "PERCENTAGE"): only,
        ("FORECASTED", "GREATER_THAN", 100.0, "PERCENTAGE"): only,
    }
    budgets.calls.clear()
    assert ensure_budget(budgets, account, changed).action == "unchanged"
    assert _writes(budgets) == []


def test_a_changed_threshold_replaces_our_alert_and_keeps_one_added_by_hand(
    budgets, account, config
):
    ensure_budget(budgets, account, config)
    by_hand = {
        "NotificationType": "ACTUAL",
        "ComparisonOperator": "GREATER_THAN",
        "Threshold": 500.0,
        "ThresholdType": "ABSOLUTE_VALUE",
    }
    budgets.create_notification(
        AccountId=account,
        BudgetName=config.name,
        Notification=by_hand,
        Subscribers=[{"SubscriptionType": "EMAIL", "Address": "cfo@example.com"}],
    )
    outcome = ensure_budget(budgets, account, _with(config, actual_percent=90.0))
    assert outcome.action == "updated"
    assert outcome.notifications == ("ACTUAL>500 USD", "ACTUAL>90%", "FORECASTED>100%")
    assert set(_notifications(budgets, account, config.name)) == {
        ("ACTUAL", "GREATER_THAN", 90.0, "PERCENTAGE"),
        ("FORECASTED", "GREATER_THAN", 100.0, "PERCENTAGE"),
        ("ACTUAL", "GREATER_THAN", 500.0, "ABSOLUTE_VALUE"),
    }


def test_without_subscribers_the_budget_is_made_with_a_warning_and_no_alert(
    budgets, account, config
):
    silent = _with(config, emails=(), sns_topic_arn=None)
    outcome = ensure_budget(budgets, account, silent)
    assert outcome.action == "created" and outcome.notifications == ()
    assert outcome.warning is not None and "REFILL_BUDGET_EMAILS" in outcome.warning
    budget = budgets.describe_budget(AccountId=account, BudgetName=config.name)["Budget"]
    assert Decimal(budget["BudgetLimit"]["Amount"]) == 250
    assert _notifications(budgets, account, config.name) == {}
    assert "CreateNotification" not in budgets.calls


def test_configuration_comes_from_the_environment():
    config = BudgetConfig.from_env({})
    assert config.limit_usd == DEFAULT_LIMIT_USD == 250.0
    assert config.name == "refill-platform-dev"
    assert dict(config.tags) == {"CostCenter": "data-platform", "Env": "dev"}
    assert config.emails == () and config.sns_topic_arn is None
    config = BudgetConfig.from_env(
        {
            "REFILL_BUDGET_USD": "400",
            "REFILL_ENV": "prod",
            "REFILL_COST_CENTER": "ml",
            "REFILL_BUDGET_EMAILS": " ops@example.com, ,cto@example.com,ops@example.com",
            "REFILL_BUDGET_SNS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t",
        }
    )
    assert config.limit_usd == 400.0 and config.name == "refill-platform-prod"
    assert dict(config.tags) == {"CostCenter": "ml", "Env": "prod"}
    assert config.emails == ("ops@example.com", "cto@example.com")
    assert config.sns_topic_arn == "arn:aws:sns:us-east-1:123456789012:t"
    assert BudgetConfig.from_env({"REFILL_BUDGET_NAME": "mine"}).name == "mine"


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan", "inf"])
def test_a_limit_that_is_not_a_positive_number_is_refused(value):
    with pytest.raises(ValueError, match="REFILL_BUDGET_USD"):
        BudgetConfig.from_env({"REFILL_BUDGET_USD": value})
