"""The data-quality dashboard: one self-contained page, written once a run (when the run
publishes) or at once when a critical expectation fails (the run stops there)."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from refill_assets.quality import validate
from refill_assets.quality.dashboard import COLOURS
from refill_assets.quality.datasets import EXPORT
from refill_assets.scoring.scores import SCORES_TABLE
from tests.unit.quality.conftest import Warehouse, as_frame, export_row, score, validate_output

ORDERS = "raw.rx_orders"
DAYS = [Warehouse.day(n) for n in (1, 2, 3)]
OK, WARNED, CRITICAL = DAYS
RUN = f"{DAYS[0]}…{DAYS[-1]} run 1a2b3c4d"  # as the wiring names a validation


class _Page(HTMLParser):
    """The page's table rows (each a list of cells: tag, attributes, text, links) and every
    tag that loads or links something."""

    def __init__(self, text: str):
        super().__init__()
        self.rows: list[list[dict]] = []
        self.refs: list[tuple[str, dict]] = []
        self._cell: dict | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if {"src", "href"} & set(attrs):
            self.refs.append((tag, attrs))
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = {"tag": tag, "attrs": attrs, "text": "", "links": []}
            self.rows[-1].append(self._cell)
        elif tag == "a" and self._cell is not None:
            self._cell["links"].append(attrs["href"])

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data

    def grid(self) -> dict[str, dict[str, str]]:
        """Each dataset's day cells: day -> background colour."""
        return {
            row[0]["text"]: {
                c["attrs"]["title"].split(":")[0]: c["attrs"]["style"].removeprefix("background:")
                for c in row[1:]
            }
            for row in self.rows
            if row[1:] and row[0]["tag"] == "th" and all(c["tag"] == "td" for c in row[1:])
        }

    def latest(self) -> dict[str, dict]:
        """The latest-day table: dataset -> its day, state, state colour and GX links."""
        return {
            row[0]["text"]: {
                "day": row[1]["text"],
                "state": row[2]["text"],
                "colour": row[2]["attrs"]["style"].removeprefix("color:"),
                "links": row[4]["links"],
            }
            for row in self.rows
            if len(row) == 5 and row[0]["tag"] == "td" and "style" in row[2]["attrs"]
        }


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    """The page when the scores' critical failure stops the run (``stopped``) and after the
    run's Data Docs are rendered (``published``): orders clean on every day; scores with a
    warning failed on day 2, a warning and a critical one on day 3; a clean export."""
    wh = Warehouse(tmp_path_factory.mktemp("home"))
    index = wh.layout.quality_docs / "index.html"
    for n in (1, 2, 3):
        wh.deliver_orders(n, 20)
    wh.load(DAYS[0], DAYS[-1])
    with wh.connect(read_only=False) as con:
        validate.extract(con, wh.layout, "rx_orders", DAYS[0], DAYS[-1], RUN)
    assert not index.exists()  # every expectation held: the page waits for the run's end
    late_p10 = {"refill_date_p10": CRITICAL + timedelta(days=12)}
    scores = [
        *(score(i, d) for d in DAYS for i in range(3)),
        score(5, WARNED, predicted_days_to_refill=-1.0),
        score(6, CRITICAL, predicted_days_to_refill=-1.0),
        score(7, CRITICAL, **late_p10),
    ]
    validate_output(wh, SCORES_TABLE, DAYS, as_frame(scores), RUN)
    stopped = index.read_text()
    exports = [export_row(i, d) for d in DAYS for i in range(3)]
    validate_output(wh, EXPORT, DAYS, as_frame(exports), RUN)
    with wh.connect(read_only=False) as con:
        assert validate.publish(con, wh.layout) == index
    return {"stopped": (index, stopped), "published": (index, index.read_text())}


BOTH = pytest.mark.parametrize("state", ["stopped", "published"])
SEEN = {"stopped": {ORDERS, SCORES_TABLE}, "published": {ORDERS, SCORES_TABLE, EXPORT}}


@BOTH
def test_the_page_is_written_and_self_contained(pages, state):
    index, text = pages[state]
    assert index.is_file()
    page = _Page(text)
    assert page.rows  # parsed: the page has its tables
    assert not [a for tag, a in page.refs if tag == "script"]
    assert not [a for tag, a in page.refs if tag == "link"]
    external = [a for _, a in page.refs for k in ("src", "href") if "//" in a.get(k, "")]
    assert external == []
    assert "@import" not in text and "url(" not in text


@BOTH
def test_the_page_names_each_validated_dataset(pages, state):
    _, text = pages[state]
    for dataset in SEEN[state]:
        assert dataset in text
    page = _Page(text)
    assert set(page.grid()) == SEEN[state]
    assert set(page.latest()) == SEEN[state]


@BOTH
def test_each_day_is_coloured_by_its_worst_failed_expectation(pages, state):
    page = _Page(pages[state][1])
    grid = page.grid()
    assert grid[SCORES_TABLE] == {
        str(OK): COLOURS["ok"],
        str(WARNED): COLOURS["warning"],
        str(CRITICAL): COLOURS["critical"],
    }
    for dataset in SEEN[state] - {SCORES_TABLE}:
        assert grid[dataset] == dict.fromkeys(map(str, DAYS), COLOURS["ok"])
    latest = page.latest()[SCORES_TABLE]
    assert (latest["day"], latest["state"]) == (str(CRITICAL), "critical")
    assert latest["colour"] == COLOURS["critical"]


def _links(text: str) -> list[str]:
    return [a["href"] for tag, a in _Page(text).refs if tag == "a"]


@BOTH
def test_every_link_resolves_to_a_file(pages, state):
    index, text = pages[state]
    for link in _links(text):
        assert (index.parent / unquote(urlparse(link).path)).is_file(), link


def test_the_published_page_links_each_dataset_to_its_gx_pages(pages):
    index, text = pages["published"]
    assert "gx/index.html" in _links(text)
    latest = _Page(text).latest()
    for dataset, row in latest.items():
        assert row["links"], dataset
        assert all(link.startswith("gx/validations/") for link in row["links"]), dataset
    assert len(latest[ORDERS]["links"]) == 2  # its rows and days suites
