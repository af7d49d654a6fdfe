"""Drug catalog, sig grammar, clinics and warehouses of the simulated pharmacy.

Each product has one 11-digit NDC, a contract drug class, a dispensing unit
and a list of dose options (for tablets: quantity per dose and doses per
day). A prescription picks a product, a dose option and a sig *style*; the
sig text is rendered from this fixed grammar, which ingestion parses::

    {q} tab PO {SID|BID|TID|QID|q12h|q8h|q24h}
    Give {q} tablet(s) by mouth {once|twice|three times} daily   ("tablet" if q <= 1)
    Give {q} capsule(s) by mouth every other day                  ("capsule" if q <= 1)
    Apply 1 pipette monthly
    Give 1 chewable monthly
    {q} mL PO BID

with q in {1, 1/2, 0.5, 1.5, 2, 1/4}. Units per day are kept as an exact
fraction (num/den), so days' supply = floor(qty * den / num) has no rounding
error; a monthly product is 1/30 unit per day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from refill_assets.contract.rules import ACUTE_CLASSES, SEASONAL_CLASSES
from refill_simulator.process import Process

# q as written in a sig -> (numerator, denominator)
QUANTITIES = {"1": (1, 1), "1/2": (1, 2), "0.5": (1, 2), "1.5": (3, 2), "2": (2, 1), "1/4": (1, 4)}
TAB_FREQ = {1: ("SID", "q24h"), 2: ("BID", "q12h"), 3: ("TID", "q8h"), 4: ("QID", "QID")}
GIVE_FREQ = {1: "once", 2: "twice", 3: "three times"}
SIG_STYLES = 3  # tablets: abbreviation, alternative abbreviation, "Give ... by mouth"

# days' supply of a pack: daily products are packed for 30/60/90 days, monthly
# ones in 1/3/6/12 doses, acute courses for 7/10/14 days
DAILY_PACK_DAYS = ((30, 60, 90), (0.5, 0.15, 0.35))
MONTHLY_PACK_DAYS = ((30, 90, 180, 360), (0.35, 0.35, 0.2, 0.1))
ACUTE_PACK_DAYS = ((7, 10, 14), (0.3, 0.4, 0.3))


@dataclass(frozen=True)
class Product:
    ndc: str
    name: str
    drug_class: str
    unit: str  # tab | capsule | mL | chewable | pipette
    species: str  # D dogs, C cats, DC both; X: also prescribed to exotics
    doses: tuple[str, ...]  # tablets "q@doses_per_day"; capsules/mL "q"; monthly ()
    weight: float  # relative popularity among eligible products

    @property
    def maintenance(self) -> bool:
        return self.drug_class not in ACUTE_CLASSES

    @property
    def monthly(self) -> bool:
        return self.unit in ("chewable", "pipette")


def _p(ndc, name, cls, unit, species, doses, weight):
    return Product(ndc, name, cls, unit, species, tuple(doses.split()), weight)


HW, FT, AC = "heartworm_prevention", "flea_tick", "anticonvulsant"
_TAB_LOW = "1/4@1 1/2@1 1@1 1@2"
_TAB_MID = "1/2@1 1@1 1/2@2 1@2 1.5@2"
_TAB_BID = "1/2@2 1@2 1.5@2 2@2"
_TAB_TID = "1/2@3 1@3 1.5@3"
_ML = "0.5 1 1.5 2"

# fmt: off
PRODUCTS: tuple[Product, ...] = (
    _p("54771020101", "Carprofen 25 mg chewable tablet", "nsaid", "tab", "D", _TAB_MID, 3),
    _p("54771020201", "Carprofen 75 mg caplet", "nsaid", "tab", "D", _TAB_MID, 5),
    _p("54771020301", "Carprofen 100 mg caplet", "nsaid", "tab", "D", _TAB_MID, 4),
    _p("00143965005", "Meloxicam 1.5 mg/mL oral suspension", "nsaid", "mL", "DX", _ML, 4),
    _p("00143965105", "Meloxicam 0.5 mg/mL oral suspension", "nsaid", "mL", "CX", _ML, 2),
    _p("58198011101", "Deracoxib 75 mg chewable tablet", "nsaid", "tab", "D", _TAB_LOW, 2),
    _p("58198012201", "Grapiprant 60 mg tablet", "nsaid", "tab", "D", _TAB_LOW, 3),
    _p("01890903101", "Ivermectin/pyrantel chewable 51-100 lb", HW, "chewable", "D", "", 8),
    _p("00115330201", "Milbemycin oxime chewable 26-50 lb", HW, "chewable", "D", "", 4),
    _p("58198044001", "Milbemycin/lufenuron chewable 26-50 lb", HW, "chewable", "D", "", 3),
    _p("54771410001", "Selamectin topical solution 10.1-20 lb", HW, "pipette", "DC", "", 4),
    _p("05817060102", "Moxidectin/imidacloprid topical 5.1-9 lb", HW, "pipette", "C", "", 3),
    _p("54771520001", "Sarolaner/moxidectin/pyrantel chewable", HW, "chewable", "D", "", 4),
    _p("01890330301", "Afoxolaner chewable 24.1-60 lb", FT, "chewable", "D", "", 8),
    _p("54771310001", "Sarolaner chewable 22.1-44 lb", FT, "chewable", "D", "", 5),
    _p("58198100101", "Lotilaner chewable 25.1-50 lb", FT, "chewable", "D", "", 3),
    _p("01890211001", "Fipronil/S-methoprene topical 45-88 lb", FT, "pipette", "DC", "", 4),
    _p("05817020101", "Imidacloprid topical 21-55 lb", FT, "pipette", "DC", "", 3),
    _p("54771420001", "Selamectin/sarolaner topical 5.6-11 lb", FT, "pipette", "C", "", 3),
    _p("58198720001", "Spinosad chewable 20.1-40 lb", FT, "chewable", "DC", "", 2),
    _p("17033050101", "Levothyroxine 0.5 mg tablet", "thyroid", "tab", "D", _TAB_BID, 3),
    _p("17033080101", "Levothyroxine 0.8 mg tablet", "thyroid", "tab", "D", _TAB_BID, 2),
    _p("17033025001", "Methimazole 2.5 mg tablet", "thyroid", "tab", "C", _TAB_BID, 4),
    _p("17033050201", "Methimazole 5 mg tablet", "thyroid", "tab", "C", _TAB_BID, 2),
    _p("01890125001", "Pimobendan 2.5 mg chewable tablet", "cardiac", "tab", "D", _TAB_BID, 3),
    _p("01890150001", "Pimobendan 5 mg chewable tablet", "cardiac", "tab", "D", _TAB_BID, 3),
    _p("00781123101", "Enalapril 5 mg tablet", "cardiac", "tab", "D", _TAB_MID, 2),
    _p("00781124101", "Benazepril 5 mg tablet", "cardiac", "tab", "DC", _TAB_LOW, 2),
    _p("00781125101", "Furosemide 12.5 mg tablet", "cardiac", "tab", "DC", _TAB_BID, 2),
    _p("00781126101", "Amlodipine 2.5 mg tablet", "cardiac", "tab", "C", _TAB_LOW, 2),
    _p("00781127101", "Spironolactone 25 mg tablet", "cardiac", "tab", "D", _TAB_MID, 1),
    _p("00143110101", "Phenobarbital 16.2 mg tablet", AC, "tab", "DC", _TAB_BID, 2),
    _p("00143110201", "Phenobarbital 64.8 mg tablet", AC, "tab", "D", _TAB_BID, 2),
    _p("00781500101", "Levetiracetam 500 mg tablet", AC, "tab", "D", _TAB_TID, 2),
    _p("13985025001", "Potassium bromide 250 mg/mL oral solution", AC, "mL", "D", _ML, 1),
    _p("00781540101", "Glipizide 5 mg tablet", "diabetes", "tab", "C", _TAB_BID, 1),
    _p("00781541101", "Acarbose 25 mg tablet", "diabetes", "tab", "DC", _TAB_BID, 1),
    _p("54771560101", "Oclacitinib 16 mg tablet", "dermatology", "tab", "D", _TAB_MID, 4),
    _p("54771560201", "Oclacitinib 5.4 mg tablet", "dermatology", "tab", "D", _TAB_MID, 3),
    _p("58198330101", "Cyclosporine 50 mg capsule", "dermatology", "capsule", "DC", "1 2", 2),
    _p("58198330201", "Cyclosporine 25 mg capsule", "dermatology", "capsule", "DC", "1 2", 1),
    _p("00904720101", "Fluoxetine 20 mg tablet", "behavioral", "tab", "D", _TAB_LOW, 2),
    _p("00904721101", "Clomipramine 20 mg tablet", "behavioral", "tab", "D", _TAB_BID, 1),
    _p("00904722101", "Trazodone 50 mg tablet", "behavioral", "tab", "D", _TAB_BID, 2),
    _p("00904723101", "Gabapentin 100 mg tablet", "behavioral", "tab", "C", _TAB_BID, 2),
    _p("13985500101", "Amoxicillin/clavulanate 250 mg tab", "antibiotic", "tab", "DC", _TAB_BID, 4),
    _p("13985510101", "Cephalexin 500 mg tablet", "antibiotic", "tab", "D", _TAB_BID, 3),
    _p("13985520101", "Doxycycline 100 mg tablet", "antibiotic", "tab", "DC", _TAB_BID, 2),
    _p("58198600101", "Enrofloxacin 68 mg tablet", "antibiotic", "tab", "DX", _TAB_LOW, 2),
    _p("13985530101", "Metronidazole 250 mg tablet", "antibiotic", "tab", "DCX", _TAB_BID, 2),
    _p("54771700101", "Maropitant 24 mg tablet", "gastro", "tab", "D", _TAB_LOW, 2),
    _p("00781710101", "Famotidine 10 mg tablet", "gastro", "tab", "DC", _TAB_BID, 2),
    _p("00781720101", "Omeprazole 20 mg tablet", "gastro", "tab", "D", _TAB_LOW, 1),
    _p("17033900101", "Phenylpropanolamine 50 mg chewable", "other", "tab", "D", _TAB_BID, 2),
    _p("00781910101", "Prednisolone 5 mg tablet", "other", "tab", "DC", _TAB_LOW, 3),
    _p("00781920101", "Ursodiol 250 mg tablet", "other", "tab", "D", _TAB_LOW, 1),
    _p("13985930101", "Mirtazapine 15 mg tablet", "other", "tab", "CX", _TAB_LOW, 1),
)
# fmt: on


def _frac(text: str) -> tuple[int, int]:
    return QUANTITIES[text]


def _qword(q: str, singular: str) -> str:
    num, den = QUANTITIES[q]
    return f"{q} {singular}" if num <= den else f"{q} {singular}s"


def _render(product: Product, dose: str, style: int) -> tuple[str, int, int]:
    """One dose option in one sig style -> (sig text, units/day numerator, denominator)."""
    if product.unit == "chewable":
        return "Give 1 chewable monthly", 1, 30
    if product.unit == "pipette":
        return "Apply 1 pipette monthly", 1, 30
    if product.unit == "capsule":
        num, den = _frac(dose)
        return f"Give {_qword(dose, 'capsule')} by mouth every other day", num, den * 2
    if product.unit == "mL":
        num, den = _frac(dose)
        return f"{dose} mL PO BID", num * 2, den
    q, per_day = dose.split("@")
    num, den = _frac(q)
    n = int(per_day)
    if style == 1 and q == "1/2":
        q = "0.5"  # the same half tablet, as some vets write it
    if style == 2 and n in GIVE_FREQ:
        return f"Give {_qword(q, 'tablet')} by mouth {GIVE_FREQ[n]} daily", num * n, den
    return f"{q} tab PO {TAB_FREQ[n][style % 2]}", num * n, den


@dataclass(frozen=True)
class CatalogArrays:
    """The catalog as arrays, for vectorised lookups by product and dose."""

    ndc: np.ndarray
    name: np.ndarray
    drug_class: np.ndarray
    maintenance: np.ndarray
    monthly: np.ndarray
    acute: np.ndarray
    seasonal: np.ndarray
    n_doses: np.ndarray
    # (product, dose, style) -> flat index into sig / upd_num / upd_den
    sig_index: np.ndarray
    sig: np.ndarray
    upd_num: np.ndarray
    upd_den: np.ndarray


def catalog_arrays() -> CatalogArrays:
    max_doses = max(max(len(p.doses), 1) for p in PRODUCTS)
    sig_index = np.zeros((len(PRODUCTS), max_doses, SIG_STYLES), dtype=np.int64)
    sigs: list[str] = []
    nums: list[int] = []
    dens: list[int] = []
    for i, product in enumerate(PRODUCTS):
        doses = product.doses or ("",)
        for j in range(max_doses):
            for style in range(SIG_STYLES):
                text, num, den = _render(product, doses[min(j, len(doses) - 1)], style)
                sig_index[i, j, style] = len(sigs)
                sigs.append(text)
                nums.append(num)
                dens.append(den)
    return CatalogArrays(
        ndc=np.array([p.ndc for p in PRODUCTS]),
        name=np.array([p.name for p in PRODUCTS]),
        drug_class=np.array([p.drug_class for p in PRODUCTS]),
        maintenance=np.array([p.maintenance for p in PRODUCTS]),
        monthly=np.array([p.monthly for p in PRODUCTS]),
        acute=np.array([not p.maintenance for p in PRODUCTS]),
        seasonal=np.array([p.drug_class in SEASONAL_CLASSES for p in PRODUCTS]),
        n_doses=np.array([max(len(p.doses), 1) for p in PRODUCTS]),
        sig_index=sig_index,
        sig=np.array(sigs),
        upd_num=np.array(nums, dtype=np.int64),
        upd_den=np.array(dens, dtype=np.int64),
    )


def eligible_weights(species: str) -> np.ndarray:
    """Popularity of each product for a species code D, C or X (exotic)."""
    return np.array([p.weight if species in p.species else 0.0 for p in PRODUCTS])


def units_per_day(cat: CatalogArrays, product, dose, style) -> tuple[np.ndarray, np.ndarray]:
    """Units per day of each (product, dose option, sig style), as numerator and denominator."""
    flat = cat.sig_index[product, dose, style]
    return cat.upd_num[flat], cat.upd_den[flat]


def quantity_for(days: np.ndarray, num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Whole units covering ``days`` at num/den units a day (rounded up, as dispensed)."""
    return -((-days * num) // den)


def days_supply(qty: np.ndarray, num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return (qty * den) // num


WAREHOUSES = ("WH-NJ1", "WH-TX1", "WH-NV1")
# time zone -> warehouse index that serves it
WAREHOUSE_OF_ZONE = {"ET": 0, "CT": 1, "MT": 2, "AZ": 2, "PT": 2}
CARRIERS = ("UPS", "FedEx", "USPS")
# strict clinics deny uniformly in this range; the others Beta(a, Process.clinic_deny_beta_b)
STRICT_DENY_RATE = (0.2, 0.35)
CLINIC_DENY_BETA_A = 1.2


@dataclass(frozen=True)
class Clinics:
    ids: np.ndarray
    reauth_median_days: np.ndarray  # median clinic response time to a reauth request
    deny_rate: np.ndarray


def build_clinics(n_pets: int, p: Process, rng: np.random.Generator) -> Clinics:
    n = int(np.clip(n_pets // 40, 30, 450))
    median = np.exp(rng.normal(np.log(p.clinic_reauth_median_days), p.clinic_reauth_spread, n))
    # most clinics approve nearly always; some (one in ten as standard) are strict
    strict = rng.random(n) < p.strict_clinic_share
    deny = np.where(
        strict,
        rng.uniform(*STRICT_DENY_RATE, n),
        rng.beta(CLINIC_DENY_BETA_A, p.clinic_deny_beta_b, n),
    )
    ids = np.array([f"CL{1000 + i:05d}" for i in range(n)])
    return Clinics(ids, median, deny)
