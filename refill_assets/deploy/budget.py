"""The platform's AWS Budget (monthly cost, filtered by its cost tags), kept as configured.

A deploy makes resources that cost money every month; the client's plan caps that spend
(``DEFAULT_LIMIT_USD``). ``ensure_budget`` creates the budget, or brings an existing one back
to the configuration: the limit, the tag filter and two alerts (actual spend past
``actual_percent`` of the limit, forecast spend past ``forecast_percent``) sent to the
configured e-mail addresses and SNS topic. It is idempotent: run it on every deploy; when
nothing differs it writes nothing.

What the budget counts: the cost-allocation tags the deploy puts on every resource
(``sagemaker.cost_tags``), CostCenter and Env. AWS sees them only once they are activated as
cost-allocation tags in the Billing console, and an SNS subscriber needs a topic policy that
lets ``budgets.amazonaws.com`` publish. Configuration comes from the environment
(``BudgetConfig.from_env``); the Budgets client and account id are passed in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from refill_assets.deploy.listing import every
from refill_assets.deploy.sagemaker import cost_tags

DEFAULT_LIMIT_USD = 250.0  # the client's plan: $250 a month until traffic grows
FILTER_TAGS = ("CostCenter", "Env")
# AWS accepts at most 10 e-mail subscribers per notification (and one SNS topic)
MAX_EMAILS = 10
# a notification is identified by these fields; the rest (NotificationState, InAlarmCount)
# is state AWS reports, not something to send back
_IDENTITY = ("NotificationType", "ComparisonOperator", "Threshold", "ThresholdType")


@dataclass(frozen=True)
class BudgetConfig:
    name: str
    limit_usd: float
    tags: Mapping[str, str]  # the filter: CostCenter and Env values (from cost_tags)
    emails: tuple[str, ...]  # notification subscribers (EMAIL)
    sns_topic_arn: str | None  # an SNS subscriber as well, if set
    actual_percent: float = 80.0  # ACTUAL spend > this % of the limit
    forecast_percent: float = 100.0  # FORECASTED spend > this % of the limit

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BudgetConfig:
        tags = cost_tags(env)
        listed = (e.strip() for e in env.get("REFILL_BUDGET_EMAILS", "").split(","))
        emails = tuple(dict.fromkeys(e for e in listed if e))  # in order, each once
        if len(emails) > MAX_EMAILS:
            raise ValueError(
                f"REFILL_BUDGET_EMAILS: at most {MAX_EMAILS} addresses, not {len(emails)}"
            )
        return cls(
            name=env.get("REFILL_BUDGET_NAME") or f"refill-platform-{tags['Env']}",
            limit_usd=_limit(env.get("REFILL_BUDGET_USD")),
            tags={k: tags[k] for k in FILTER_TAGS},
            emails=emails,
            sns_topic_arn=env.get("REFILL_BUDGET_SNS_TOPIC_ARN") or None,
        )

    @property
    def subscribers(self) -> list[dict[str, str]]:
        found = [{"SubscriptionType": "EMAIL", "Address": e} for e in self.emails]
        if self.sns_topic_arn:
            found.append({"SubscriptionType": "SNS", "Address": self.sns_topic_arn})
        return found


@dataclass(frozen=True)
class BudgetOutcome:
    name: str
    action: str  # "created" | "updated" | "unchanged"
    notifications: tuple[str, ...]  # e.g. ("ACTUAL>80%", "FORECASTED>100%") as they now stand
    warning: str | None  # e.g. no subscribers configured: notifications not created


def _limit(value: str | None) -> float:
    if value is None or not value.strip():
        return DEFAULT_LIMIT_USD
    try:
        limit = float(value)
    except ValueError:
        raise ValueError(f"REFILL_BUDGET_USD must be a number of dollars, not {value!r}") from None
    if not math.isfinite(limit) or limit <= 0:
        raise ValueError(f"REFILL_BUDGET_USD must be a positive number of dollars, not {value!r}")
    return limit


def budget_spec(config: BudgetConfig) -> dict[str, Any]:
    """The budget as CreateBudget / UpdateBudget take it."""
    return {
        "BudgetName": config.name,
        "BudgetType": "COST",
        "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": str(config.limit_usd), "Unit": "USD"},
        # The Budgets API's tag filter: "user:<key>$<value>". Values of one filter key are
        # OR-ed by AWS: spend tagged with either value counts. Every platform resource carries
        # both, so this over-counts only spend of other resources sharing the CostCenter or the
        # Env, which makes the alert early rather than late.
        "CostFilters": {"TagKeyValue": [f"user:{k}${v}" for k, v in config.tags.items()]},
    }


def notification_specs(config: BudgetConfig) -> list[dict[str, Any]]:
    """The notifications the budget should have (their identity; subscribers aside)."""
    return [
        {
            "NotificationType": kind,
            "ComparisonOperator": "GREATER_THAN",
            "Threshold": float(percent),
            "ThresholdType": "PERCENTAGE",
        }
        for kind, percent in (
            ("ACTUAL", config.actual_percent),
            ("FORECASTED", config.forecast_percent),
        )
    ]


def ensure_budget(budgets: Any, account_id: str, config: BudgetConfig) -> BudgetOutcome:
    """Create the budget, or bring it to ``config``; a call that finds it as configured makes
    no write call ("unchanged")."""
    wanted = budget_spec(config)
    subscribers = config.subscribers
    desired = notification_specs(config) if subscribers else []
    warning = None
    if not subscribers:
        warning = (
            "no subscribers configured (set REFILL_BUDGET_EMAILS or REFILL_BUDGET_SNS_TOPIC_ARN):"
            " budget notifications not created or changed"
        )
    current = _describe(budgets, account_id, config.name)
    if current is None:
        budgets.create_budget(
            AccountId=account_id,
            Budget=wanted,
            NotificationsWithSubscribers=[
                {"Notification": n, "Subscribers": subscribers} for n in desired
            ],
        )
        return BudgetOutcome(config.name, "created", _labels(desired), warning)
    changed = False
    if not _same_budget(current, wanted):
        budgets.update_budget(AccountId=account_id, NewBudget=wanted)
        changed = True
    existing = [
        _identity(n)
        for n in every(
            budgets,
            "describe_notifications_for_budget",
            "Notifications",
            AccountId=account_id,
            BudgetName=config.name,
        )
    ]
    if subscribers:
        changed |= _sync_notifications(
            budgets, account_id, config.name, existing, desired, subscribers
        )
        standing = [n for n in existing if not _ours(n)] + desired
    else:
        # without a subscriber there is no notification AWS would accept; the ones already
        # there stay (an unset variable must not silence the alerts)
        standing = existing
    return BudgetOutcome(
        config.name, "updated" if changed else "unchanged", _labels(standing), warning
    )


def _describe(budgets: Any, account_id: str, name: str) -> dict[str, Any] | None:
    try:
        return budgets.describe_budget(AccountId=account_id, BudgetName=name)["Budget"]
    except budgets.exceptions.NotFoundException:
        return None


def _same_budget(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    limit, want = current.get("BudgetLimit", {}), wanted["BudgetLimit"]
    # AWS answers the amount in its own notation ("250.0" for "250"): compare numbers
    return (
        _amount(limit.get("Amount")) == _amount(want["Amount"])
        and limit.get("Unit") == want["Unit"]
        and current.get("TimeUnit") == wanted["TimeUnit"]
        and _filters(current.get("CostFilters")) == _filters(wanted["CostFilters"])
    )


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _filters(filters: Mapping[str, list[str]] | None) -> dict[str, list[str]]:
    # the values of a filter key are a set to AWS: their order is not a difference
    return {k: sorted(v) for k, v in (filters or {}).items()}


def _ours(notification: Mapping[str, Any]) -> bool:
    """The alerts this module manages: percentage thresholds on actual or forecast spend.
    Others (an absolute amount, a LESS_THAN), added by hand, are left alone."""
    return (
        notification.get("NotificationType") in ("ACTUAL", "FORECASTED")
        and notification.get("ComparisonOperator") == "GREATER_THAN"
        and notification.get("ThresholdType", "PERCENTAGE") == "PERCENTAGE"
    )


def _sync_notifications(
    budgets: Any,
    account_id: str,
    name: str,
    existing: list[dict[str, Any]],
    desired: list[dict[str, Any]],
    subscribers: list[dict[str, str]],
) -> bool:
    """Bring our notifications to ``desired``, each with ``subscribers``; True if it wrote."""
    wrote = False
    want = _subscriber_set(subscribers)
    ids = {_key(d) for d in desired}
    for notification in existing:
        if not _ours(notification):
            continue
        if _key(notification) in ids:
            have = every(
                budgets,
                "describe_subscribers_for_notification",
                "Subscribers",
                AccountId=account_id,
                BudgetName=name,
                Notification=notification,
            )
            if _subscriber_set(have) == want:
                ids.discard(_key(notification))
                continue
        # a changed threshold or changed subscribers: replaced (deleted, then created below)
        # rather than edited field by field; AWS resets its alarm state, which is the point of
        # a new threshold and harmless for new subscribers
        budgets.delete_notification(
            AccountId=account_id, BudgetName=name, Notification=notification
        )
        wrote = True
    for notification in desired:
        if _key(notification) in ids:
            budgets.create_notification(
                AccountId=account_id,
                BudgetName=name,
                Notification=notification,
                Subscribers=subscribers,
            )
            wrote = True
    return wrote


def _identity(notification: Mapping[str, Any]) -> dict[str, Any]:
    return {k: notification[k] for k in _IDENTITY if k in notification}


def _key(notification: Mapping[str, Any]) -> tuple:
    return (
        notification["NotificationType"],
        notification["ComparisonOperator"],
        float(notification["Threshold"]),
        notification.get("ThresholdType", "PERCENTAGE"),
    )


def _subscriber_set(subscribers: Any) -> set[tuple[str, str]]:
    return {(s["SubscriptionType"], s["Address"]) for s in subscribers}


def _labels(notifications: list[dict[str, Any]]) -> tuple[str, ...]:
    def label(n: Mapping[str, Any]) -> str:
        unit = "%" if n.get("ThresholdType", "PERCENTAGE") == "PERCENTAGE" else " USD"
        op = {"GREATER_THAN": ">", "LESS_THAN": "<", "EQUAL_TO": "="}[n["ComparisonOperator"]]
        return f"{n['NotificationType']}{op}{float(n['Threshold']):g}{unit}"

    return tuple(sorted(label(n) for n in notifications))
