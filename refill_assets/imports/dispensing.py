# Over 400 lines: a quarter is the docstring that maps every contract column; one idea.
"""A generic dispensing history → a landing zone that follows the contract.

Input: a delimited text table with one row per dispensing (fill) and at least
five columns — patient id, drug id, fill date, quantity, days' supply — whose
header names are given by ``HistoryColumns`` (defaults: SMART's ``refills.txt``,
``PID, RXN, DATE, Q, DAYS``). Optionally a drug table with drug id and name
(``DrugColumns``; defaults: SMART's ``meds.txt``, ``RxNorm, Name``). Tab or
comma separated (read from the header line), UTF-8, dates ``YYYY-MM-DD``.

Output: ``<out>/landing/<extract>/dt=<fill date>/<extract>_<YYYYMMDD>_01.csv``,
written by the contract's landing writer (``refill_assets.contract.landing_writer``,
which the simulator writes with too), so file names, folders and CSV dialect are
exactly the simulator's. Every row is delivered on its fill date (``dt`` = fill
date), i.e. known to the platform from the end of the day it was dispensed.

The mapping (``../shared/contracts/raw-extracts.md``)
=====================================================

Nothing that looks like data is invented. A contract column the history does
not carry is left empty where the contract allows a null; where the contract
requires a value, it gets one of the explicit constants of this module (named
in capitals below), the same for every row, so it carries no information a
model could learn from.

Fills. Rows with the same (patient, drug, fill date) are *one* fill: in the
SMART history the 173 such pairs all share one days' supply, and the next fill
comes after ~1 days' supply (median ratio 1.01), not two, so they are one
dispensing recorded twice (or split over two lines), not a double supply. The
fill keeps the largest quantity and days' supply of its rows; ``ImportSummary``
counts the rows merged. Every other row is a fill of its own.

``rx_orders`` — one row per fill, ``dt`` = fill date

    order_id          rx_id + ``:`` + fill date (unique after the merge above)
    rx_id             patient id + ``:`` + drug id: one prescription per patient × drug
                      (the history has no prescription ids; a new prescription of the
                      same drug is not told apart from a refill)
    customer_id       the patient id (one synthetic customer per patient, see below)
    pet_id            the patient id (the patient plays the pet)
    clinic_id         null (unknown)
    ndc               the drug id left-padded with zeros to 11 digits when every drug
                      id is 1–11 digits (RxNorm codes are 6–7); otherwise the drug's
                      rank among the sorted distinct drug ids, padded the same way.
                      Not a real NDC: a stable, unique 11-digit product key.
    drug_name         the drug table's name for the drug id (its most frequent name,
                      ties by text), else the drug id itself; line breaks become spaces
    drug_class        DRUG_CLASS = ``other``: the history has no class; ``other`` is
                      the contract's class for drugs outside its veterinary list and
                      counts as maintenance (``antibiotic``/``gastro`` would not)
    is_maintenance    null: the platform derives it from the class (true for ``other``)
    sig               null (unknown; days' supply is given)
    qty_prescribed    null (unknown)
    qty_dispensed     the quantity (a fill's 0 stays 0: SMART has 55 such rows)
    days_supply       the days' supply (0 stays 0: vaccines; empty stays null)
    refills_authorized, refills_remaining   null (unknown)
    channel           CHANNEL = ``clinic``: dispensed over the counter, picked up in
                      person, so no shipment exists (the contract's clinic pick-up)
    autoship          null (unknown)
    status            ORDER_STATUS = ``filled``: the history lists dispensings only
    order_ts          the fill date at 00:00:00Z (``T00:00:00Z``): the history has no
                      time of day; with a zero offset the local date is the fill date
    updated_at        = order_ts (one version per order)

``pets`` — one row per patient, ``dt`` = the patient's first fill date

    pet_id            the patient id
    customer_id       the patient id
    species           SPECIES = ``dog``: required, and the platform models dogs and
                      cats only (anything else is ``other``, kept but never modelled,
                      so nothing would be reported). The history is human; ``dog`` is
                      a stand-in that keeps its rows in the modelled population, the
                      same for every row. Change it with ``species=`` (``cat``).
    status            PET_STATUS = ``active``: nobody is reported deceased or transferred
    updated_at        first fill date at 00:00:00Z
    name, breed, birth_date, weight, weight_unit   null (unknown)

``customers`` — one row per patient (a synthetic owner), ``dt`` = first fill date

    customer_id       the patient id
    created_at, updated_at   first fill date at 00:00:00Z
    first_name, last_name, email, phone, address_line1, zip5, state,
    marketing_opt_in  null (unknown; no PII is written at all)

``vet_reauth``, ``shipments``, ``inventory``, ``engagement``: the history has
none of these events, so no files (an extract with no delivery is not an
error: the contract allows days without a folder, and the platform's tables
are created empty). Clinic pick-ups have no shipments by contract.

Rows the import cannot map (a missing patient, drug, fill date or quantity; a
date, quantity or days' supply that does not parse; a negative number; a
fractional days' supply) stop it with ``DispensingHistoryError`` naming the
column and the line numbers, never the values (histories hold patient data).
Everything is vectorised polars; the only loop is the writer's, over files.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from refill_assets.contract.extracts import EXTRACTS
from refill_assets.contract.landing_writer import write_days

# the explicit constants of the mapping (module docstring)
DRUG_CLASS = "other"
SPECIES = "dog"
CHANNEL = "clinic"
ORDER_STATUS = "filled"
PET_STATUS = "active"
MIDNIGHT_UTC = "T00:00:00Z"
ID_SEPARATOR = ":"
NDC_DIGITS = 11
DATE_FORMAT = "%Y-%m-%d"


class DispensingHistoryError(ValueError):
    """The history cannot be imported as it is (missing columns, unmappable rows)."""


@dataclass(frozen=True)
class HistoryColumns:
    """Header names of the history's columns (defaults: SMART ``refills.txt``)."""

    patient: str = "PID"
    drug: str = "RXN"
    fill_date: str = "DATE"
    quantity: str = "Q"
    days_supply: str = "DAYS"


@dataclass(frozen=True)
class DrugColumns:
    """Header names of the drug table's columns (defaults: SMART ``meds.txt``)."""

    drug: str = "RxNorm"
    name: str = "Name"


@dataclass(frozen=True)
class ImportSummary:
    history_rows: int
    fills: int
    same_day_rows_merged: int  # rows folded into another row's fill (same patient, drug, day)
    prescriptions: int
    patients: int
    drugs: int
    drugs_named: int  # drugs whose name came from the drug table
    first_fill: date
    last_fill: date
    delivery_days: int
    files: int
    rows: dict[str, int] = field(hash=False)  # rows written per extract
    landing: Path = Path()

    def as_dict(self) -> dict:
        out = asdict(self)
        out.update(landing=str(self.landing))
        return out


def read_table(path: Path) -> pl.DataFrame:
    """A delimited table, every column as text; tab-separated if the header has a tab."""
    path = Path(path)
    with path.open(encoding="utf-8") as f:
        header = f.readline()
    separator = "\t" if "\t" in header else ","
    return pl.read_csv(path, separator=separator, infer_schema=False, encoding="utf8")


def _require(frame: pl.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DispensingHistoryError(
            f"{what} lacks column(s) {missing}; it has {frame.columns} (map them with the columns"
            " options)"
        )


def _fail_on(frame: pl.DataFrame, bad: pl.Series, column: str, why: str) -> None:
    """Raise naming the file's line numbers (the header is line 1) of the rows where ``bad``
    holds; never their values."""
    lines = frame.with_row_index("_line", offset=2).filter(bad)["_line"]
    if lines.len():
        shown = ", ".join(str(n) for n in lines.head(10).to_list())
        more = f" and {lines.len() - 10} more" if lines.len() > 10 else ""
        raise DispensingHistoryError(
            f"{lines.len()} row(s) with {why} {column}: line {shown}{more}"
        )


def fills(
    history: pl.DataFrame,
    columns: HistoryColumns = HistoryColumns(),
    date_format: str = DATE_FORMAT,
) -> tuple[pl.DataFrame, int]:
    """The history's fills (one per patient, drug and day) and the number of rows merged.

    Columns: ``patient, drug, fill_date, quantity, days_supply`` (text ids, a date, a float,
    an int or null), sorted by fill date, patient, drug.
    """
    c = columns
    _require(history, [c.patient, c.drug, c.fill_date, c.quantity, c.days_supply], "history")
    text = history.select(
        pl.col(name).str.strip_chars().replace("", None).alias(key)
        for key, name in asdict(c).items()
    )
    typed = text.with_columns(
        fill_date=pl.col("fill_date").str.to_date(date_format, strict=False),
        quantity=pl.col("quantity").cast(pl.Float64, strict=False),
        days_float=pl.col("days_supply").cast(pl.Float64, strict=False),
    )
    for key in ("patient", "drug", "fill_date", "quantity"):
        _fail_on(text, text[key].is_null(), getattr(c, key), "an empty")
    _fail_on(typed, typed["fill_date"].is_null(), c.fill_date, "a bad")
    _fail_on(typed, ~typed["quantity"].is_finite().fill_null(False), c.quantity, "a bad")
    days = typed["days_float"]
    _fail_on(
        typed,
        text["days_supply"].is_not_null() & (days.is_null() | ~days.is_finite()),
        c.days_supply,
        "a bad",
    )
    _fail_on(
        typed, (typed["quantity"] < 0) | (days < 0), f"{c.quantity}/{c.days_supply}", "a negative"
    )
    _fail_on(typed, days != days.floor(), c.days_supply, "a fractional")
    merged = (
        typed.group_by("patient", "drug", "fill_date")
        .agg(
            quantity=pl.col("quantity").max(),
            days_supply=pl.col("days_float").max().cast(pl.Int64),
            _rows=pl.len(),
        )
        .sort("fill_date", "patient", "drug")
    )
    return merged.drop("_rows"), int((merged["_rows"] - 1).sum())


def drug_names(drugs: pl.DataFrame | None, columns: DrugColumns = DrugColumns()) -> pl.DataFrame:
    """``drug, drug_name``: each drug id's most frequent name in the drug table (ties by text)."""
    if drugs is None:
        return pl.DataFrame(schema={"drug": pl.String, "drug_name": pl.String})
    _require(drugs, [columns.drug, columns.name], "drug table")
    named = drugs.select(
        drug=pl.col(columns.drug).str.strip_chars(),
        drug_name=pl.col(columns.name)
        .str.replace_all(r"[\r\n]+", " ")
        .str.strip_chars()
        .replace("", None),
    ).drop_nulls()
    return (
        named.group_by("drug", "drug_name")
        .len()
        .sort("drug", "len", "drug_name", descending=[False, True, False])
        .unique("drug", keep="first", maintain_order=True)
        .drop("len")
    )


def _ndc(drug_ids: pl.Series) -> pl.DataFrame:
    """``drug, ndc``: an 11-digit key per drug id (see the module docstring)."""
    distinct = drug_ids.unique().sort()
    numeric = bool(distinct.str.contains(rf"^\d{{1,{NDC_DIGITS}}}$").all())
    code = distinct if numeric else pl.Series(np.arange(1, len(distinct) + 1)).cast(pl.String)
    return pl.DataFrame({"drug": distinct, "ndc": code.str.zfill(NDC_DIGITS)})


def _text_number(x: pl.Expr) -> pl.Expr:
    """A number as text, without a trailing ``.0`` for whole numbers."""
    return (
        pl.when(x == x.floor()).then(x.cast(pl.Int64).cast(pl.String)).otherwise(x.cast(pl.String))
    )


def _midnight(day: pl.Expr) -> pl.Expr:
    return day.dt.strftime(DATE_FORMAT) + pl.lit(MIDNIGHT_UTC)


def _null() -> pl.Expr:
    return pl.lit(None, pl.String)


def landing_rows(
    fill_rows: pl.DataFrame, names: pl.DataFrame, species: str = SPECIES
) -> dict[str, pl.DataFrame]:
    """Each written extract's rows: its contract columns as text, and ``_day`` (the fill date
    of the delivery)."""
    sep = pl.lit(ID_SEPARATOR)
    keyed = fill_rows.with_columns(rx_id=pl.concat_str("patient", sep, "drug"))
    pairs = keyed.select("patient", "drug").unique().height
    if keyed["rx_id"].n_unique() != pairs:
        raise DispensingHistoryError(
            f"patient and drug ids containing {ID_SEPARATOR!r} make prescription ids collide"
        )
    orders = (
        keyed.join(_ndc(keyed["drug"]), on="drug", how="left")
        .join(names, on="drug", how="left")
        .select(
            order_id=pl.concat_str("rx_id", sep, pl.col("fill_date").dt.strftime(DATE_FORMAT)),
            rx_id="rx_id",
            customer_id="patient",
            pet_id="patient",
            clinic_id=_null(),
            ndc="ndc",
            drug_name=pl.coalesce("drug_name", "drug"),
            drug_class=pl.lit(DRUG_CLASS),
            is_maintenance=_null(),
            sig=_null(),
            qty_prescribed=_null(),
            qty_dispensed=_text_number(pl.col("quantity")),
            days_supply=pl.col("days_supply").cast(pl.String),
            refills_authorized=_null(),
            refills_remaining=_null(),
            channel=pl.lit(CHANNEL),
            autoship=_null(),
            status=pl.lit(ORDER_STATUS),
            order_ts=_midnight(pl.col("fill_date")),
            updated_at=_midnight(pl.col("fill_date")),
            _day=pl.col("fill_date"),
        )
    )
    first = fill_rows.group_by("patient").agg(_day=pl.col("fill_date").min())
    pets = first.select(
        pet_id="patient",
        customer_id="patient",
        name=_null(),
        species=pl.lit(species),
        breed=_null(),
        birth_date=_null(),
        weight=_null(),
        weight_unit=_null(),
        status=pl.lit(PET_STATUS),
        updated_at=_midnight(pl.col("_day")),
        _day="_day",
    )
    customers = first.select(
        customer_id="patient",
        **{c: _null() for c in ("first_name", "last_name", "email", "phone", "address_line1")},
        zip5=_null(),
        state=_null(),
        marketing_opt_in=_null(),
        created_at=_midnight(pl.col("_day")),
        updated_at=_midnight(pl.col("_day")),
        _day="_day",
    )
    return {"rx_orders": orders, "pets": pets, "customers": customers}


def write_landing(rows: dict[str, pl.DataFrame], landing: Path) -> tuple[int, dict[str, int]]:
    """Write the extracts in the contract's layout: one file per extract and delivery day
    (``_day``), rows in key order, no quirks. Returns (files, rows per extract)."""
    files, written = 0, {}
    for name, frame in rows.items():
        extract = EXTRACTS[name]
        paths = write_days(landing, extract, frame.sort("_day", *extract.key), "_day")
        files, written[name] = files + len(paths), frame.height
    return files, written


def import_dispensing(
    history: Path,
    out_dir: Path,
    drugs: Path | None = None,
    *,
    columns: HistoryColumns = HistoryColumns(),
    drug_columns: DrugColumns = DrugColumns(),
    species: str = SPECIES,
    date_format: str = DATE_FORMAT,
) -> ImportSummary:
    """Read a dispensing history (and drug table), write ``out_dir/landing`` (replaced if it
    exists; nothing else is written)."""
    table = read_table(history)
    fill_rows, merged = fills(table, columns, date_format)
    if fill_rows.is_empty():
        raise DispensingHistoryError(f"{history} has no fills")
    names = drug_names(read_table(drugs) if drugs else None, drug_columns)
    rows = landing_rows(fill_rows, names, species)
    landing = Path(out_dir) / "landing"
    shutil.rmtree(landing, ignore_errors=True)
    landing.mkdir(parents=True)
    files, written = write_landing(rows, landing)
    orders = rows["rx_orders"]
    return ImportSummary(
        history_rows=table.height,
        fills=orders.height,
        same_day_rows_merged=merged,
        prescriptions=orders["rx_id"].n_unique(),
        patients=rows["pets"].height,
        drugs=fill_rows["drug"].n_unique(),
        drugs_named=fill_rows.select("drug").unique().join(names, on="drug").height,
        first_fill=fill_rows["fill_date"].min(),
        last_fill=fill_rows["fill_date"].max(),
        delivery_days=orders["_day"].n_unique(),
        files=files,
        rows=written,
        landing=landing,
    )
