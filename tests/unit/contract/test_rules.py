"""contract.rules: the one home of the business rules, and dbt reading exactly those."""

from __future__ import annotations

import re
from pathlib import Path

from refill_assets.contract import rules
from refill_assets.contract.extracts import RX_ORDERS

DBT_PROJECT = Path(__file__).resolve().parents[3] / "dbt_project"
VAR = re.compile(r"""(?<![\w.])var\(\s*['"](\w+)['"]""")


def _vars_used_by_dbt() -> set[str]:
    used = set()
    for path in [*DBT_PROJECT.rglob("*.sql"), *DBT_PROJECT.rglob("*.yml")]:
        if "target" in path.relative_to(DBT_PROJECT).parts:
            continue
        used |= set(VAR.findall(path.read_text()))
    return used


def test_dbt_reads_every_rule_it_is_given_and_no_other_var():
    assert _vars_used_by_dbt() == set(rules.dbt_vars())


def test_the_dbt_project_holds_no_copy_of_a_rule():
    project = (DBT_PROJECT / "dbt_project.yml").read_text()
    for name in rules.dbt_vars():
        assert not re.search(rf"^\s+{name}\s*:", project, re.M), name


def test_drug_classes_partition_the_contract_vocabulary():
    allowed = set(RX_ORDERS.column("drug_class").allowed)
    assert set(rules.ACUTE_CLASSES) <= allowed
    assert set(rules.SEASONAL_CLASSES) <= allowed
    assert not set(rules.ACUTE_CLASSES) & set(rules.SEASONAL_CLASSES)
    assert "other" not in rules.ACUTE_CLASSES  # `other` counts as maintenance (contract)
