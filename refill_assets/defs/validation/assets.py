"""``models/validation``: every model on the temporal holdout, and the champion gate.

How the champion is chosen is ``refill_assets.validation.champion``; this asset hands
it the stores and the gate's policy, and reports its decision. The blocking check fails
when no model fit to serve is champion afterwards, which stops the scores below it.
"""

import dagster as dg

from refill_assets.defs.cost.meter import metered
from refill_assets.defs.resources import SETTINGS, ModelStore
from refill_assets.models.schema import KINDS
from refill_assets.reports.page import markdown_table
from refill_assets.validation.champion import choose_champion
from refill_assets.validation.gate import GatePolicy

VALIDATION = dg.AssetKey(["models", "validation"])
SHOWN = ["model", "mae_days", "median_ae_days", "within_7d", "coverage_p10_p90"]
SHOWN += ["lapse_roc_auc", "lapse_brier"]


class GateConfig(dg.Config):
    # defaults from REFILL_GATE_MARGIN / REFILL_GATE_TOLERANCE; a run's config overrides
    margin: float = SETTINGS.gate_margin  # the challenger's MAE must be this share lower
    tolerance: float = SETTINGS.gate_tolerance  # allowed regression of a large segment
    min_rows: int = 500  # a segment this large counts
    lapse_auc_tolerance: float = GatePolicy.lapse_auc_tolerance  # allowed lapse AUC shortfall
    lapse_brier_tolerance: float = GatePolicy.lapse_brier_tolerance  # allowed Brier excess


@dg.asset(
    key=VALIDATION,
    deps=[dg.AssetKey(["models", kind]) for kind in KINDS],
    group_name="models",
    kinds={"mlflow", "html"},
    check_specs=[
        dg.AssetCheckSpec(
            "champion_gate",
            asset=VALIDATION,
            blocking=True,
            description="The gate decided on finite figures (timing and lapse), and a "
            "champion fit to serve is in effect after its decision.",
        )
    ],
    description="Metrics of every model (and the oracle) on the temporal holdout, the "
    "validation report, model cards, and the champion/challenger decision.",
)
@metered
def validation(context: dg.AssetExecutionContext, config: GateConfig, models: ModelStore):
    policy = GatePolicy(**config.model_dump())
    choice = choose_champion(models.layout, models.tracking_uri, models.truth_dir, policy)
    decision, in_effect = choice.decision, choice.champion
    champion = f"{in_effect.model_name} v{in_effect.version}" if in_effect else None
    yield dg.MaterializeResult(
        metadata={
            "metrics": dg.MetadataValue.md(markdown_table(choice.metrics.select(SHOWN))),
            "challenger": choice.challenger,
            "promoted": decision.promoted,
            "reasons": dg.MetadataValue.json(decision.reasons),
            "champion": champion or "none",
            "report": dg.MetadataValue.path(str(choice.report)),
            "test_window": choice.test_window,
        }
    )
    yield dg.AssetCheckResult(
        check_name="champion_gate",
        # a champion serves, and the gate decided on finite figures
        passed=in_effect is not None and decision.undecided is None,
        description="; ".join(decision.reasons) + (f"; champion: {champion}" if champion else ""),
        metadata={"promoted": decision.promoted, "challenger": choice.challenger},
    )
