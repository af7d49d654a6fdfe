"""The promised outputs that have a suite, and the column that places a row in a run's window.

Kept apart from the suites so that the wiring can name them without loading GX.
"""

from refill_assets.monitoring.outcomes import OUTCOMES_TABLE
from refill_assets.monitoring.performance import PERFORMANCE_TABLE
from refill_assets.scoring.scores import SCORES_TABLE

FILLS, INTERVALS, EXPORT = "marts.fills", "marts.refill_intervals", "outreach.export"
DAY_COLUMN = {
    FILLS: "_dt",
    INTERVALS: "known_from",
    SCORES_TABLE: "as_of_date",
    EXPORT: "contact_on",  # the file's rows, not a table: validated from the frame written
    OUTCOMES_TABLE: "as_of_date",
    PERFORMANCE_TABLE: "as_of_date",
}
