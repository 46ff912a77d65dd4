"""Synthetic data for pbmdb (`pbm seed synthetic`): deterministic for a seed, vectorised with numpy.

What it makes (see docs/decisions/0005-synthetic-data.md for the design choices):

- plan configuration, independent of the seed: two Medicare Part D plans with the defined standard
  benefit of the year (ref.part_d_parameters), two commercial plans with tier copays, formularies with
  utilization management, two networks, three contracts, a MAC list; codes start with SYN-;
- a drug catalog built from seeds/curated/drugs.csv (real names, synthetic NDC-11s) with AWP, WAC,
  NADAC and MAC unit prices that change on a few dates, also independent of the seed;
- from the seed: pharmacies, prescribers, members (Medicare and commercial families, cardholder ids
  SYN + 9 digits), coverage spans, prior authorizations, M3P elections and the claim *requests* of one
  plan year (NCPDP B1 fields as pharmacies send them), a share of them made to be rejected.

Every random draw comes from numpy generators seeded from (--seed, part), so a part's data does not
move when another part changes. Dates are day numbers (days since 1970-01-01), money integer cents.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from etl.layouts import FEEDS
from seeds import synthetic_csv as fmt

GENERATOR_VERSION = "2"
CURATED = Path(__file__).resolve().parent / "curated"
CATALOG_SEED = 20251123  # drugs, prices and plan configuration do not depend on --seed
NA = fmt.NA

PROBLEM_KINDS = (
    "unknown_cardholder",
    "outside_coverage",
    "out_of_network_pharmacy",
    "unknown_ndc",
    "invalid_prescriber_npi",
    "excluded_drug",
    "missing_prior_authorization",
    "over_quantity_limit",
)

PARTD_NETWORK, COMM_NETWORK = "SYN-NET-PARTD", "SYN-NET-COMM"
PARTD_FORMULARY, COMM_FORMULARY = "SYN-FORM-PARTD", "SYN-FORM-COMM"
MAC_LIST = "SYN-MAC"
BIN = "999123"

# contract code, name, ingredient basis, brand / generic AWP discount, brand / generic fee, MAC list.
# Discounts and fees: the seed defaults of pbm-domain.md 4.3 (San Marcos public contract, rounded).
CONTRACTS = (
    (
        "SYN-RETAIL",
        "Synthetic retail: brand AWP-17%, generic MAC or AWP-72%, fee $1.25 brand / $1.15 generic",
        "AWP",
        "0.1700",
        "0.7200",
        "1.25",
        "1.15",
        MAC_LIST,
    ),
    (
        "SYN-MAIL",
        "Synthetic mail order: brand AWP-20%, generic MAC or AWP-75%, no dispensing fee",
        "AWP",
        "0.2000",
        "0.7500",
        "0.00",
        "0.00",
        MAC_LIST,
    ),
    (
        "SYN-NADAC",
        "Synthetic NADAC-based (Medicaid-style): NADAC per unit plus a $10.50 professional fee",
        "NADAC",
        "0.0000",
        "0.0000",
        "10.50",
        "10.50",
        None,
    ),
)

# plan code, name, type, PCN, group, CMS contract, PBP, network, formulary
PLANS = (
    (
        "SYN-PDP-S5884-001",
        "Synthetic standard PDP S5884-001",
        "medicare_part_d",
        "SYNPARTD",
        "SYNPDP001",
        "S5884",
        "001",
        PARTD_NETWORK,
        PARTD_FORMULARY,
    ),
    (
        "SYN-MAPD-H9999-001",
        "Synthetic MA-PD H9999-001 (standard Part D benefit)",
        "medicare_part_d",
        "SYNPARTD",
        "SYNMAPD001",
        "H9999",
        "001",
        PARTD_NETWORK,
        PARTD_FORMULARY,
    ),
    (
        "SYN-COM-GOLD",
        "Synthetic commercial Gold (4 copay tiers + specialty)",
        "commercial",
        "SYNCOMM",
        "SYNGOLD01",
        None,
        None,
        COMM_NETWORK,
        COMM_FORMULARY,
    ),
    (
        "SYN-COM-SILVER",
        "Synthetic commercial Silver (4 copay tiers + specialty)",
        "commercial",
        "SYNCOMM",
        "SYNSILVER01",
        None,
        None,
        COMM_NETWORK,
        COMM_FORMULARY,
    ),
)
PARTD_PLANS = (0, 1)
COMM_PLANS = (2, 3)

# Commercial designs (DESIGN values): KFF 2017 average copays $11/$33/$59/$110 for tiers 1-4; a specialty
# coinsurance tier with a per-claim maximum; a deductible on the brand tiers 2-4; an out-of-pocket maximum.
COMMERCIAL_DESIGNS = {
    "SYN-COM-GOLD": dict(
        deductible="100.00",
        oop_max="2500.00",
        specialty_rate="0.2000",
        specialty_max="200.00",
        insulin_cap="35.00",
        insulin_exempt=True,
        rts="0.750",
    ),
    "SYN-COM-SILVER": dict(
        deductible="250.00",
        oop_max="4000.00",
        specialty_rate="0.2500",
        specialty_max="350.00",
        insulin_cap=None,
        insulin_exempt=False,
        rts="0.800",
    ),
}
KFF_COPAYS = ("11.00", "33.00", "59.00", "110.00")

CHAINS = ("Evergreen", "Bluebird", "Summit", "Harbor", "Prairie", "Lakeside", "Keystone", "Redwood")
PRIMARY_CARE = ("FAMILY MEDICINE", "INTERNAL MEDICINE", "NURSE PRACTITIONER", "PHYSICIAN ASSISTANT")
SPECIALTIES = (
    ("FAMILY MEDICINE", 30),
    ("INTERNAL MEDICINE", 25),
    ("NURSE PRACTITIONER", 14),
    ("PHYSICIAN ASSISTANT", 5),
    ("PEDIATRICS", 5),
    ("CARDIOLOGY", 4),
    ("ENDOCRINOLOGY", 2),
    ("PSYCHIATRY", 4),
    ("RHEUMATOLOGY", 2),
    ("DERMATOLOGY", 2),
    ("HEMATOLOGY ONCOLOGY", 2),
    ("INFECTIOUS DISEASE", 1),
    ("GASTROENTEROLOGY", 2),
    ("EMERGENCY MEDICINE", 2),
)
SPECIALIST_FOR_CLASS = {
    "TNF INHIBITORS": "RHEUMATOLOGY",
    "PDE4 INHIBITORS": "DERMATOLOGY",
    "INTERLEUKIN INHIBITORS": "DERMATOLOGY",
    "KINASE INHIBITORS": "HEMATOLOGY ONCOLOGY",
    "IMMUNOMODULATORS": "HEMATOLOGY ONCOLOGY",
    "HIV ANTIRETROVIRALS": "INFECTIOUS DISEASE",
    "HEPATITIS C ANTIVIRALS": "GASTROENTEROLOGY",
}
# Maintenance generics on tier 1 (preferred generic) of the Part D formulary; other generics on tier 2.
PREFERRED_GENERIC_CLASSES = {
    "HMG-COA REDUCTASE INHIBITORS",
    "ACE INHIBITORS",
    "ANGIOTENSIN II RECEPTOR BLOCKERS",
    "CALCIUM CHANNEL BLOCKERS",
    "BETA BLOCKERS",
    "THIAZIDE DIURETICS",
    "LOOP DIURETICS",
    "BIGUANIDES",
    "SULFONYLUREAS",
    "THYROID HORMONES",
}
# DE-SynPUF chronic condition flags from the member's drugs (classes); the rest are drawn at random.
CONDITION_CLASSES = {
    "SP_DIABETES": {
        "BIGUANIDES",
        "SULFONYLUREAS",
        "DPP-4 INHIBITORS",
        "SGLT2 INHIBITORS",
        "GLP-1 RECEPTOR AGONISTS",
        "INSULINS",
    },
    "SP_CHF": {"ANGIOTENSIN RECEPTOR-NEPRILYSIN INHIBITORS", "LOOP DIURETICS", "ALDOSTERONE ANTAGONISTS"},
    "SP_CNCR": {"KINASE INHIBITORS", "IMMUNOMODULATORS"},
    "SP_COPD": {"ANTICHOLINERGIC BRONCHODILATORS", "CORTICOSTEROID AND LABA COMBINATIONS"},
    "SP_DEPRESSN": {"SSRIS", "SNRIS", "ANTIDEPRESSANTS - OTHER"},
    "SP_ISCHMCHT": {"PLATELET AGGREGATION INHIBITORS", "NITRATES"},
    "SP_OSTEOPRS": {"BISPHOSPHONATES"},
    "SP_RA_OA": {"NSAIDS", "TNF INHIBITORS"},
    "SP_STRKETIA": {"ANTICOAGULANTS"},
    "SP_ALZHDMTA": {"CHOLINESTERASE INHIBITORS"},
    "SP_CHRNKIDN": set(),
}


@dataclass(frozen=True)
class Params:
    seed: int
    members: int
    claims: int
    year: int
    problem_share: float = 0.03


@dataclass(frozen=True)
class PartD:
    """The year's defined standard benefit (ref.part_d_parameters), as text with two or four decimals."""

    deductible: str
    oop_threshold: str
    coinsurance: str
    insulin_cap: str


@dataclass
class Dataset:
    params: Params
    config: dict[str, pd.DataFrame] = field(default_factory=dict)
    feeds: dict[str, pd.DataFrame] = field(default_factory=dict)  # small feeds, feed columns + 'ord'
    # Claim columns (byte arrays) of lines [lo, hi) in line order, formatted on demand chunk by chunk.
    claim_chunk: Callable[[int, int], dict[str, np.ndarray]] | None = None
    problem_kind: np.ndarray | None = None  # per claim line: index into PROBLEM_KINDS, -1 = clean
    desynpuf_beneficiary: list[np.ndarray] = field(default_factory=list)
    desynpuf_pde: list[np.ndarray] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------
# dates
# ---------------------------------------------------------------------------------------------------
def day(y: int, m: int, d: int) -> int:
    return int(np.datetime64(f"{y:04d}-{m:02d}-{d:02d}", "D").astype(np.int64))


def iso(d: int) -> str:
    return str(np.datetime64(int(d), "D"))


def zpad(values, width: int) -> np.ndarray:
    """Integers as zero-padded decimal strings."""
    a = np.asarray(values).astype(str)
    return np.char.zfill(a, width) if a.size else a


def month_start(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def month_end(days: np.ndarray) -> np.ndarray:
    nxt = days.astype("datetime64[D]").astype("datetime64[M]") + np.timedelta64(1, "M")
    return nxt.astype("datetime64[D]").astype(np.int64) - 1


def year_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def month_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1


def first_of_month(years: np.ndarray, months: np.ndarray) -> np.ndarray:
    m = (np.asarray(years) - 1970) * 12 + (np.asarray(months) - 1)
    return m.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def age_on(dob: np.ndarray, on: int) -> np.ndarray:
    """Completed years of age on day `on` for dates of birth `dob` (day numbers)."""
    d = dob.astype("datetime64[D]")
    y, o = d.astype("datetime64[Y]").astype(np.int64) + 1970, np.datetime64(on, "D")
    oy = int(o.astype("datetime64[Y]").astype(np.int64)) + 1970
    birthday_this_year = (d - d.astype("datetime64[Y]")).astype(np.int64)  # day of year of birth
    on_doy = int((o - o.astype("datetime64[Y]")).astype(np.int64))
    return oy - y - (birthday_this_year > on_doy)


# ---------------------------------------------------------------------------------------------------
# identifiers
# ---------------------------------------------------------------------------------------------------
def unique_ints(rng: np.random.Generator, low: int, high: int, k: int, avoid=None) -> np.ndarray:
    """k distinct integers in [low, high), in draw order, none of them in `avoid`."""
    avoid = np.asarray([] if avoid is None else avoid, dtype=np.int64)
    got = np.zeros(0, dtype=np.int64)
    while len(got) < k:
        draw = rng.integers(low, high, size=int((k - len(got)) * 1.2) + 16)
        got = np.concatenate([got, draw])
        _, first = np.unique(got, return_index=True)
        got = got[np.sort(first)]
        if len(avoid):
            got = got[~np.isin(got, avoid)]
    return got[:k]


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Decimal digits of non-negative integers, most significant first: shape (n, width)."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers) % 10


def npi_from_base(base: np.ndarray) -> np.ndarray:
    """10-digit NPIs from 9-digit bases: Luhn check digit computed with the 80840 prefix (constant 24)."""
    d = digits(base, 9)
    doubled = d[:, 0::2] * 2  # positions 1, 3, 5, 7, 9 from the left
    total = 24 + (doubled // 10 + doubled % 10).sum(axis=1) + d[:, 1::2].sum(axis=1)
    return base * 10 + (10 - total % 10) % 10


def npi_is_valid(npi: int) -> bool:
    """The same rule as ref.npi_is_valid, for tests and problem claims."""
    s = str(npi)
    if len(s) != 10 or s[0] not in "12":
        return False
    return int(npi_from_base(np.array([npi // 10]))[0]) == npi


def dea_numbers(rng: np.random.Generator, last_names: np.ndarray, mid_level: np.ndarray) -> np.ndarray:
    """DEA registration numbers: registrant-type letter, first letter of the last name, 6 digits and a
    check digit = last digit of (d1 + d3 + d5) + 2 * (d2 + d4 + d6) (published convention, secondary
    sources; the database checks the format only)."""
    n = len(last_names)
    d = rng.integers(0, 10, size=(n, 6))
    check = (d[:, 0] + d[:, 2] + d[:, 4] + 2 * (d[:, 1] + d[:, 3] + d[:, 5])) % 10
    first = np.where(mid_level, "M", rng.choice(np.array(["A", "B", "F"]), size=n, p=[0.2, 0.5, 0.3]))
    body = ["".join(map(str, row)) + str(c) for row, c in zip(d.tolist(), check.tolist(), strict=True)]
    return np.array([f"{f}{ln[0]}{b}" for f, ln, b in zip(first, last_names, body, strict=True)])


MBI_ALPHA = np.frombuffer(b"ACDEFGHJKMNPQRTUVWXY", dtype=np.uint8)  # A-Z without S, L, O, I, B, Z
MBI_NUM = np.frombuffer(b"0123456789", dtype=np.uint8)
MBI_C = np.frombuffer(b"123456789", dtype=np.uint8)
MBI_AN = np.concatenate([MBI_ALPHA, MBI_NUM])


def mbis(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct Medicare Beneficiary Identifiers, C A AN N A AN N A A N N (CMS MBI format)."""
    classes = (
        MBI_C,
        MBI_ALPHA,
        MBI_AN,
        MBI_NUM,
        MBI_ALPHA,
        MBI_AN,
        MBI_NUM,
        MBI_ALPHA,
        MBI_ALPHA,
        MBI_NUM,
        MBI_NUM,
    )
    out = np.zeros(0, dtype="S11")
    while len(out) < n:
        k = n - len(out)
        chars = np.stack([cls[rng.integers(0, len(cls), size=k)] for cls in classes], axis=1)
        new = np.ascontiguousarray(chars).view("S11").ravel()
        out = np.concatenate([out, new])
        _, first = np.unique(out, return_index=True)
        out = out[np.sort(first)]
    return out[:n]


# ---------------------------------------------------------------------------------------------------
# curated data
# ---------------------------------------------------------------------------------------------------
def load_curated_drugs() -> pd.DataFrame:
    df = pd.read_csv(CURATED / "drugs.csv", dtype=str, keep_default_na=False)
    for col in ("generics", "dea_schedule", "days", "min_age"):
        df[col] = df[col].astype(int)
    for col in ("package_size", "qty", "weight"):
        df[col] = df[col].astype(float)
    df["max_age"] = df["max_age"].replace("", "200").astype(int)
    df["max_fills"] = df["max_fills"].replace("", "999").astype(int)
    df["brand_awp"] = pd.to_numeric(df["brand_awp"].replace("", None), errors="raise").astype(float)
    df["generic_nadac"] = pd.to_numeric(df["generic_nadac"].replace("", None), errors="raise").astype(float)
    df["drug_group"] = df["generic_name"] + "|" + df["strength"] + "|" + df["dosage_form"]
    for col in ("generic_name", "brand_name", "strength", "dosage_form", "therapeutic_class", "route"):
        fmt.check_plain(df[col], f"drugs.csv {col}")
    if df["drug_group"].duplicated().any():
        raise ValueError("drugs.csv: duplicate drug group")
    rules = pd.read_csv(CURATED / "formulary_rules.csv", dtype=str, keep_default_na=False)
    keyed = df.set_index(["generic_name", "strength"])
    missing = rules[~rules.set_index(["generic_name", "strength"]).index.isin(keyed.index)]
    if len(missing):
        raise ValueError(f"formulary_rules.csv names drugs not in drugs.csv: {missing.iloc[0].tolist()}")
    df.attrs["rules"] = rules
    return df


def load_people() -> dict:
    first = pd.read_csv(CURATED / "first_names.csv", dtype=str)
    places = pd.read_csv(CURATED / "places.csv", dtype={"zip3": str, "ssa_state_code": int, "weight": float})
    return {
        "male": first.loc[first["sex"] == "M", "name"].to_numpy(),
        "female": first.loc[first["sex"] == "F", "name"].to_numpy(),
        "last": np.array((CURATED / "last_names.txt").read_text().split()),
        "streets": np.array((CURATED / "streets.txt").read_text().split()),
        "places": places,
    }


# ---------------------------------------------------------------------------------------------------
# catalog, prices, formularies (independent of the seed)
# ---------------------------------------------------------------------------------------------------
@dataclass
class Catalog:
    rows: pd.DataFrame  # curated drug groups
    products: pd.DataFrame  # one row per NDC
    awp: np.ndarray  # (products, slots) AWP per unit
    slot_starts: np.ndarray  # first day of each price slot
    entries: pd.DataFrame  # formulary entries
    rules: pd.DataFrame
    prices: pd.DataFrame  # ndc11, price_type, mac_list_code, unit_price, effective_day, end_day


def build_catalog(year: int) -> Catalog:
    rng = np.random.default_rng(CATALOG_SEED)
    rows = load_curated_drugs()
    rules = rows.attrs["rules"]

    # Labelers: 4-digit codes (NDC 4-4-2) and 5-digit codes (5-3-2 or 5-4-1), synthetic.
    four = rng.choice(np.arange(1000, 10000), size=16, replace=False)
    five = rng.choice(np.arange(10000, 100000), size=36, replace=False)
    labelers = np.concatenate([four, five])
    rng.shuffle(labelers)
    brand_labelers, generic_labelers = labelers[:40], labelers[40:]
    next_product = {int(lab): int(rng.integers(0, 500)) for lab in labelers}

    brands = sorted(set(rows.loc[rows["brand_name"] != "", "brand_name"]))
    brand_lab = dict(zip(brands, rng.choice(brand_labelers, size=len(brands)), strict=True))

    recs = []
    for r in rows.itertuples():
        makers = []
        if r.market in ("O", "N"):
            makers.append(("O" if r.market == "O" else "N", int(brand_lab[r.brand_name]), r.brand_name.upper()))
        if r.market in ("O", "G"):
            for lab in rng.choice(generic_labelers, size=r.generics, replace=False):
                makers.append(("Y", int(lab), r.generic_name.upper()))
        for mony, lab, name in makers:
            seq = next_product[lab]
            next_product[lab] = seq + int(rng.integers(1, 9))
            if lab < 10000:  # 4-4-2
                prod, pkg = 1000 + seq % 9000, int(rng.integers(10, 100))
                package_code = f"{lab:04d}-{prod:04d}-{pkg:02d}"
                ndc = f"0{lab:04d}{prod:04d}{pkg:02d}"
            elif rng.random() < 0.7:  # 5-3-2
                prod, pkg = 100 + seq % 900, int(rng.integers(10, 100))
                package_code = f"{lab:05d}-{prod:03d}-{pkg:02d}"
                ndc = f"{lab:05d}0{prod:03d}{pkg:02d}"
            else:  # 5-4-1
                prod, pkg = 1000 + seq % 9000, int(rng.integers(1, 10))
                package_code = f"{lab:05d}-{prod:04d}-{pkg:d}"
                ndc = f"{lab:05d}{prod:04d}0{pkg:d}"
            recs.append((ndc, package_code, r.Index, mony, name))
    products = pd.DataFrame(recs, columns=["ndc11", "ndc_package_code", "row", "mony", "drug_name"])
    if products["ndc11"].duplicated().any():
        raise ValueError("synthetic NDC collision")
    products["is_brand"] = products["mony"] != "Y"
    for col in (
        "generic_name",
        "strength",
        "dosage_form",
        "route",
        "therapeutic_class",
        "drug_group",
        "dea_schedule",
        "kind",
        "uom",
        "package_size",
    ):
        products[col] = rows[col].to_numpy()[products["row"].to_numpy()]

    # Prices in five slots: last year, then the quarters of the plan year.
    slot_starts = np.array([day(year - 1, 1, 1), day(year, 1, 1), day(year, 4, 1), day(year, 7, 1), day(year, 10, 1)])
    n = len(products)
    row_idx = products["row"].to_numpy()
    brand = products["is_brand"].to_numpy()
    brand_awp = rows["brand_awp"].to_numpy()[row_idx]
    gen_nadac = rows["generic_nadac"].to_numpy()[row_idx]
    ones = np.ones((n, 5))

    # Brands: AWP rises in January (most brands) and in July (some); WAC = AWP / 1.2; NADAC just under WAC.
    jan = np.where(rng.random(n) < 0.85, rng.uniform(0.03, 0.07, n), 0.0)
    jul = np.where(rng.random(n) < 0.25, rng.uniform(0.02, 0.05, n), 0.0)
    growth = ones.copy()
    growth[:, 1:] *= (1 + jan)[:, None]
    growth[:, 3:] *= (1 + jul)[:, None]
    b_awp = np.nan_to_num(brand_awp)[:, None] * growth
    # Generics: NADAC moves in April and October for some NDCs; AWP sits 2.5 to 15 times above NADAC.
    g_nadac = (np.nan_to_num(gen_nadac) * rng.uniform(0.8, 1.25, n))[:, None] * ones
    for slot in (2, 4):
        moves = rng.random(n) < 0.4
        g_nadac[moves, slot:] *= rng.uniform(0.85, 1.10, moves.sum())[:, None]
    spread = np.exp(rng.uniform(math.log(2.5), math.log(15.0), n))
    g_awp0 = np.nan_to_num(gen_nadac) * spread
    g_awp0 = np.where(np.isnan(brand_awp), g_awp0, np.minimum(g_awp0, 0.9 * np.nan_to_num(brand_awp)))
    g_awp = g_awp0[:, None] * ones
    bump = rng.random(n) < 0.15
    g_awp[bump, 1:] *= rng.uniform(1.0, 1.05, bump.sum())[:, None]

    awp = np.where(brand[:, None], b_awp, g_awp)
    wac = awp / 1.2
    nadac = np.where(brand[:, None], wac * rng.uniform(0.975, 0.995, n)[:, None], g_nadac)
    # MAC per drug group (generics only): 15-45% above the group's mean NADAC of the slot.
    mac = np.full((n, 5), np.nan)
    groups = products.loc[~brand, "drug_group"]
    factor = {g: rng.uniform(1.15, 1.45) for g in sorted(set(groups))}
    for g, idx in groups.groupby(groups).groups.items():
        ix = np.asarray(products.index.get_indexer(idx))
        mac[ix] = factor[g] * g_nadac[ix].mean(axis=0)

    price_rows = []
    for ptype, matrix in (("AWP", awp), ("WAC", wac), ("NADAC", nadac), ("MAC", mac)):
        m = np.round(matrix, 5)
        for i in range(n):
            if np.isnan(m[i, 0]):
                continue
            starts = [0] + [k for k in range(1, 5) if m[i, k] != m[i, k - 1]]
            for j, k in enumerate(starts):
                end = slot_starts[starts[j + 1]] - 1 if j + 1 < len(starts) else NA
                price_rows.append(
                    (
                        products.at[i, "ndc11"],
                        ptype,
                        MAC_LIST if ptype == "MAC" else "",
                        m[i, k],
                        slot_starts[k],
                        end,
                    )
                )
    prices = pd.DataFrame(
        price_rows, columns=["ndc11", "price_type", "mac_list_code", "unit_price", "effective_day", "end_day"]
    )
    entries = build_formulary_entries(rows, rules, products, year)
    return Catalog(rows, products, np.round(awp, 5), slot_starts, entries, rules, prices)


def _rule_mask(products: pd.DataFrame, rules: pd.DataFrame, formulary: str, rule: str) -> pd.Series:
    """Per product: the rule's value where it applies on this formulary, else NaN."""
    want = "partd" if formulary == PARTD_FORMULARY else "commercial"
    sel = rules[(rules["rule"] == rule) & rules["formulary"].isin(("both", want))]
    out = pd.Series(np.nan, index=products.index, dtype=object)
    for r in sel.itertuples():
        hit = (products["generic_name"] == r.generic_name) & (products["strength"] == r.strength)
        if r.applies_to == "brand":
            hit &= products["is_brand"]
        elif r.applies_to == "generic":
            hit &= ~products["is_brand"]
        out[hit] = r.value if r.value != "" else True
    return out


def build_formulary_entries(rows, rules, products, year) -> pd.DataFrame:
    out = []
    brand = products["is_brand"].to_numpy()
    kind = products["kind"].to_numpy()
    mony = products["mony"].to_numpy()
    cls = products["therapeutic_class"].to_numpy()
    weight = rows["weight"].to_numpy()[products["row"].to_numpy()]
    awp = rows["brand_awp"].to_numpy()[products["row"].to_numpy()]
    for formulary in (PARTD_FORMULARY, COMM_FORMULARY):
        if formulary == PARTD_FORMULARY:
            tier = np.select(
                [
                    kind == "specialty",
                    kind == "vaccine",
                    kind == "insulin",
                    ~brand,
                    (mony == "N") & (weight >= 1),
                ],
                [5, 3, 3, np.where(np.isin(cls, list(PREFERRED_GENERIC_CLASSES)), 1, 2), 3],
                default=4,
            )
        else:
            tier = np.select(
                [
                    kind == "specialty",
                    kind == "vaccine",
                    kind == "insulin",
                    ~brand,
                    (mony == "N") & (weight >= 1),
                    (mony == "O") & (np.nan_to_num(awp) > 30),
                    cls == "PDE5 INHIBITORS",
                ],
                [5, 1, 2, 1, 2, 4, 4],
                default=3,
            )
        pa = _rule_mask(products, rules, formulary, "pa").notna()
        ql = _rule_mask(products, rules, formulary, "ql")
        step = _rule_mask(products, rules, formulary, "step").notna()
        excluded = _rule_mask(products, rules, formulary, "excluded").notna()
        min_age = _rule_mask(products, rules, formulary, "min_age")
        max_age = _rule_mask(products, rules, formulary, "max_age")
        gender = _rule_mask(products, rules, formulary, "gender")
        ql_qty = ql.map(lambda v: v.split("/")[0] if isinstance(v, str) else "")
        ql_days = ql.map(lambda v: v.split("/")[1] if isinstance(v, str) else "")
        out.append(
            pd.DataFrame(
                {
                    "formulary_code": formulary,
                    "ndc11": products["ndc11"],
                    "tier": tier,
                    "is_excluded": excluded,
                    "pa_required": pa,
                    "ql_quantity": ql_qty,
                    "ql_days": ql_days,
                    "step_therapy_class": np.where(step, cls, ""),
                    "min_age": min_age.fillna(""),
                    "max_age": max_age.fillna(""),
                    "gender": gender.fillna(""),
                    "effective_date": iso(day(year - 1, 1, 1)),
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def build_config(year: int, partd: PartD, catalog: Catalog) -> dict[str, pd.DataFrame]:
    cfg = {
        "mac_lists": pd.DataFrame(
            [(MAC_LIST, "Synthetic MAC list for multi-source generics")], columns=["mac_list_code", "name"]
        ),
        "contracts": pd.DataFrame(
            list(CONTRACTS),
            columns=[
                "contract_code",
                "name",
                "ingredient_basis",
                "brand_awp_discount",
                "generic_awp_discount",
                "brand_dispensing_fee",
                "generic_dispensing_fee",
                "mac_list_code",
            ],
        ),
        "networks": pd.DataFrame(
            [
                (PARTD_NETWORK, "Synthetic Medicare Part D pharmacy network"),
                (COMM_NETWORK, "Synthetic commercial pharmacy network"),
            ],
            columns=["network_code", "name"],
        ),
        "formularies": pd.DataFrame(
            [
                (PARTD_FORMULARY, "Synthetic Part D formulary (5 tiers)"),
                (COMM_FORMULARY, "Synthetic commercial formulary (4 copay tiers + specialty)"),
            ],
            columns=["formulary_code", "name"],
        ),
    }
    cfg["plans"] = pd.DataFrame(
        [
            (code, name, ptype, BIN, pcn, group, contract, pbp, net)
            for code, name, ptype, pcn, group, contract, pbp, net, _f in PLANS
        ],
        columns=[
            "plan_code",
            "name",
            "plan_type",
            "bin",
            "pcn",
            "group_id",
            "contract_number",
            "pbp_id",
            "network_code",
        ],
    )
    designs, shares = [], []
    for code, _name, ptype, *_rest, formulary in PLANS:
        if ptype == "medicare_part_d":
            # The defined standard benefit of the year: deductible on all tiers, 25% coinsurance, the annual
            # out-of-pocket threshold as the maximum, $35 insulin without deductible, ACIP vaccines at $0.
            designs.append(
                (
                    code,
                    year,
                    formulary,
                    partd.deductible,
                    None,
                    partd.oop_threshold,
                    partd.insulin_cap,
                    True,
                    True,
                    "{}",
                    False,
                    "0.750",
                    180,
                    90,
                )
            )
            for tier in range(1, 6):
                shares.append((code, year, tier, "coinsurance", None, partd.coinsurance, None, None))
        else:
            d = COMMERCIAL_DESIGNS[code]
            designs.append(
                (
                    code,
                    year,
                    formulary,
                    d["deductible"],
                    "{2,3,4}",
                    d["oop_max"],
                    d["insulin_cap"],
                    d["insulin_exempt"],
                    True,
                    "{2}",
                    False,
                    d["rts"],
                    180,
                    90,
                )
            )
            for tier, copay in enumerate(KFF_COPAYS, start=1):
                shares.append((code, year, tier, "copay", copay, None, None, None))
            shares.append((code, year, 5, "coinsurance", None, d["specialty_rate"], None, d["specialty_max"]))
    cfg["benefit_designs"] = pd.DataFrame(
        designs,
        columns=[
            "plan_code",
            "plan_year",
            "formulary_code",
            "deductible",
            "deductible_tiers",
            "oop_max",
            "insulin_cap_per_month",
            "insulin_deductible_exempt",
            "acip_vaccines_zero",
            "brand_penalty_daw",
            "brand_penalty_counts_to_oop",
            "rts_threshold",
            "rts_lookback_days",
            "max_days_supply",
        ],
    )
    cfg["tier_cost_shares"] = pd.DataFrame(
        shares,
        columns=[
            "plan_code",
            "plan_year",
            "tier",
            "cost_share_type",
            "copay_amount",
            "coinsurance_rate",
            "min_amount",
            "max_amount",
        ],
    )
    cfg["formulary_entries"] = catalog.entries
    return cfg


# ---------------------------------------------------------------------------------------------------
# pharmacies and prescribers
# ---------------------------------------------------------------------------------------------------
def _places(rng: np.random.Generator, people: dict, n: int) -> np.ndarray:
    w = people["places"]["weight"].to_numpy()
    return rng.choice(len(w), size=n, p=w / w.sum())


def _street_addresses(rng: np.random.Generator, people: dict, n: int, upper: bool) -> np.ndarray:
    suffixes = np.array(["St", "Ave", "Rd", "Dr", "Ln", "Blvd", "Ct", "Way"])
    num = rng.integers(100, 10000, size=n)
    street = people["streets"][rng.integers(0, len(people["streets"]), size=n)]
    suffix = suffixes[rng.integers(0, len(suffixes), size=n)]
    out = np.char.add(np.char.add(np.char.add(num.astype(str), " "), np.char.add(street, " ")), suffix)
    return np.char.upper(out) if upper else out


def build_pharmacies(rng: np.random.Generator, params: Params, people: dict, npis: np.ndarray) -> pd.DataFrame:
    n = len(npis)
    n_mail, n_spec, n_ltc = max(2, round(0.01 * n)), max(2, round(0.03 * n)), max(2, round(0.04 * n))
    n_retail = n - n_mail - n_spec - n_ltc
    ptype = np.array(["retail"] * n_retail + ["mail"] * n_mail + ["specialty"] * n_spec + ["long_term_care"] * n_ltc)
    # Network status of retail pharmacies: in both networks, commercial only, Part D only, or leaving the
    # Part D network during the year (the last three give out-of-network claims).
    status = np.full(n, "both", dtype=object)
    perm = rng.permutation(n_retail)
    k_comm, k_pd, k_term = (max(1, round(f * n_retail)) for f in (0.04, 0.03, 0.02))
    status[perm[:k_comm]] = "comm_only"
    status[perm[k_comm : k_comm + k_pd]] = "pd_only"
    status[perm[k_comm + k_pd : k_comm + k_pd + k_term]] = "pd_term"
    status[ptype == "long_term_care"] = "pd_only"

    place = _places(rng, people, n)
    places = people["places"]
    city = places["city"].to_numpy()[place]
    chain_idx = rng.integers(0, len(CHAINS), size=n)
    chain = np.array(CHAINS)[chain_idx]
    is_chain = (ptype == "retail") & (rng.random(n) < 0.65)
    store = rng.integers(1, 10000, size=n)
    last = np.char.capitalize(np.char.lower(people["last"][rng.integers(0, len(people["last"]), size=n)].astype(str)))
    names = np.select(
        [ptype == "mail", ptype == "specialty", ptype == "long_term_care", is_chain],
        [
            np.char.add(chain, " Mail Service Pharmacy"),
            np.char.add(chain, " Specialty Pharmacy"),
            np.char.add(city, " Long-Term Care Pharmacy"),
            np.char.add(np.char.add(chain, " Pharmacy #"), zpad(store, 4)),
        ],
        default=np.char.add(last, " Family Pharmacy"),
    )
    ncpdp = unique_ints(rng, 0, 10_000_000, n)
    fee = np.select(
        [ptype == "mail", ptype == "specialty", ptype == "long_term_care", is_chain],
        [0, 175, 250, rng.choice([175, 200, 225, 250], size=n)],
        default=rng.choice([200, 250, 275, 300], size=n),
    )
    awp_factor = np.where(rng.random(n) < 0.8, 1.0, rng.uniform(0.96, 0.995, size=n))
    cash_program = is_chain & (chain_idx < 4)  # chains with a $4 / $10 generic list
    nadac_contract = (ptype == "long_term_care") | ((ptype == "retail") & ~is_chain & (rng.random(n) < 0.3))
    return pd.DataFrame(
        {
            "npi": npis.astype(str),
            "ncpdp_id": zpad(ncpdp, 7),
            "name": names,
            "address_line1": _street_addresses(rng, people, n, upper=False),
            "city": city,
            "state": places["state"].to_numpy()[place],
            "zip5": np.char.add(places["zip3"].to_numpy()[place].astype(str), zpad(rng.integers(0, 100, size=n), 2)),
            "pharmacy_type": ptype,
            "status": status,
            "place": place,
            "fee_cents": fee,
            "awp_factor": awp_factor,
            "cash_program": cash_program,
            "nadac_contract": nadac_contract,
        }
    )


def build_participations(rng: np.random.Generator, year: int, ph: pd.DataFrame) -> pd.DataFrame:
    n = len(ph)
    eff = first_of_month(rng.integers(year - 6, year, size=n), rng.integers(1, 13, size=n))
    term_pd = month_end(first_of_month(np.full(n, year), rng.integers(4, 10, size=n)))
    status, ptype = ph["status"].to_numpy(), ph["pharmacy_type"].to_numpy()
    contract = np.where(ptype == "mail", "SYN-MAIL", "SYN-RETAIL")
    rows = []
    for network in (PARTD_NETWORK, COMM_NETWORK):
        if network == PARTD_NETWORK:
            member = status != "comm_only"
            con = np.where(ph["nadac_contract"].to_numpy(), "SYN-NADAC", contract)
            term = np.where(status == "pd_term", term_pd, NA)
        else:
            member = ~np.isin(status, ("pd_only",))
            con, term = contract, np.full(n, NA)
        idx = np.flatnonzero(member)
        rows.append(
            pd.DataFrame(
                {
                    "network_code": network,
                    "pharmacy": idx,
                    "contract_code": con[idx],
                    "effective_day": eff[idx],
                    "termination_day": term[idx],
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def build_prescribers(rng: np.random.Generator, people: dict, npis: np.ndarray) -> pd.DataFrame:
    n = len(npis)
    names, weights = zip(*SPECIALTIES, strict=True)
    w = np.array(weights, dtype=float)
    spec = np.array(names)[rng.choice(len(names), size=n, p=w / w.sum())]
    spec[: min(n, len(names))] = np.array(names)[: min(n, len(names))]  # every specialty at least once
    female = rng.random(n) < 0.5
    first = np.where(
        female,
        people["female"][rng.integers(0, len(people["female"]), n)],
        people["male"][rng.integers(0, len(people["male"]), n)],
    )
    last = people["last"][rng.integers(0, len(people["last"]), n)]
    mid = np.isin(spec, ("NURSE PRACTITIONER", "PHYSICIAN ASSISTANT"))
    has_dea = rng.random(n) < np.where(mid, 0.85, 0.97)
    has_dea[: min(n, len(names))] = True
    dea = np.where(has_dea, dea_numbers(rng, last, mid), "")
    place = _places(rng, people, n)
    return pd.DataFrame(
        {
            "npi": npis.astype(str),
            "dea_number": dea,
            "first_name": first,
            "last_name": last,
            "specialty": spec,
            "state": people["places"]["state"].to_numpy()[place],
            "deactivated_on": "",
            "has_dea": has_dea,
        }
    )


# ---------------------------------------------------------------------------------------------------
# members and coverage
# ---------------------------------------------------------------------------------------------------
@dataclass
class Members:
    df: pd.DataFrame  # member rows (feed columns + internals), index = member number
    spans: pd.DataFrame  # member, plan (index into PLANS), effective_day, termination_day, reason
    win_start: np.ndarray  # first covered day in the plan year
    win_end: np.ndarray  # last covered day in the plan year
    switch_day: np.ndarray  # first day of the second span (NA: one span)
    plan1: np.ndarray
    plan2: np.ndarray
    death_day: np.ndarray


def build_members(rng: np.random.Generator, params: Params, people: dict) -> Members:
    y, m_total = params.year, params.members
    jan1, dec31 = day(y, 1, 1), day(y, 12, 31)
    n_med = max(1, int(round(m_total * 0.6)))
    n_com = m_total - n_med

    # ---- Medicare: 65-95 mostly (fewer at higher ages), about 12% under 65 entitled by disability.
    disabled = rng.random(n_med) < 0.12
    ages = np.arange(65, 96)
    w = np.exp(-(ages - 65) / 11.0)
    age_med = np.where(
        disabled,
        25 + np.floor(39.99 * rng.beta(2.5, 1.2, n_med)).astype(int),
        rng.choice(ages, size=n_med, p=w / w.sum()),
    )
    female_med = rng.random(n_med) < 0.55
    plan_med = np.where(rng.random(n_med) < 0.6, 0, 1)
    dob_med = first_of_month(y - age_med, np.ones(n_med, int)) + rng.integers(0, 365, n_med)
    new65 = ~disabled & (age_med == 65) & (rng.random(n_med) < 0.8)
    cap = np.where(disabled, 8, np.clip(age_med - 65, 1, 10))
    eff_med = first_of_month(y - 1 - (rng.random(n_med) * cap).astype(int), np.ones(n_med, int))
    eff_med = np.where(new65, first_of_month(np.full(n_med, y), month_of(dob_med)), eff_med)
    sep = ~new65 & (rng.random(n_med) < 0.03)
    eff_med = np.where(sep, first_of_month(np.full(n_med, y), rng.integers(2, 13, n_med)), eff_med)
    start_in_year = np.maximum(eff_med, jan1)
    p_death = np.select([disabled, age_med < 75, age_med < 85], [0.015, 0.02, 0.05], 0.12)
    death = rng.random(n_med) < p_death
    death_day = np.where(death, start_in_year + (rng.random(n_med) * (dec31 - start_in_year + 1)).astype(int), NA)
    term_med = np.where(death, month_end(np.where(death, death_day, jan1)), NA)
    reason_med = np.where(death, "death", "")
    vol = ~death & (rng.random(n_med) < 0.015)
    vol_day = start_in_year + (rng.random(n_med) * (dec31 - start_in_year + 1)).astype(int)
    term_med = np.where(vol, month_end(vol_day), term_med)
    reason_med = np.where(vol, "voluntary", reason_med)
    # A few switch Part D plans during the year: the first span ends the day before the second starts.
    first_switch_month = np.maximum(month_of(start_in_year) + 1, 2)
    switch = ~death & ~vol & (first_switch_month <= 12) & (rng.random(n_med) < 0.015)
    sw_month = first_switch_month + (rng.random(n_med) * (13 - first_switch_month)).astype(int)
    switch_day = np.where(switch, first_of_month(np.full(n_med, y), np.minimum(sw_month, 12)), NA)
    term_med = np.where(switch, switch_day - 1, term_med)
    reason_med = np.where(switch, "voluntary", reason_med)

    # ---- commercial families: subscriber 01, spouse 02, children 03, 04, ...
    sizes_p = np.array([0.38, 0.24, 0.15, 0.14, 0.06, 0.03])
    sizes = np.zeros(0, dtype=int)
    while sizes.sum() < n_com:
        sizes = np.concatenate([sizes, rng.choice(np.arange(1, 7), size=max(16, n_com // 2), p=sizes_p)])
    cut = int(np.searchsorted(np.cumsum(sizes), n_com)) + 1 if n_com else 0
    sizes = sizes[:cut]
    if n_com:
        sizes[-1] -= sizes.sum() - n_com
    n_fam = len(sizes)
    fam = np.repeat(np.arange(n_fam), sizes)
    pos = np.arange(n_com) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    sub_age = rng.integers(22, 65, n_fam)
    sub_female = rng.random(n_fam) < 0.5
    has_spouse = (sizes >= 2) & (rng.random(n_fam) < 0.8)
    is_spouse = (pos == 1) & has_spouse[fam]
    is_child = (pos >= 1) & ~is_spouse
    child_no = pos - 1 - has_spouse[fam].astype(int)
    age_com = np.where(
        pos == 0,
        sub_age[fam],
        np.where(
            is_spouse,
            np.clip(sub_age[fam] + np.round(rng.normal(0, 4, n_com)).astype(int), 21, 64),
            # Children are at least 1 at the end of the year: an enrollment file as of January 1 cannot
            # list a child born later (the ETL refuses a date of birth after the file date).
            1 + (rng.random(n_com) * np.minimum(25, sub_age[fam] - 18)).astype(int),
        ),
    )
    aging_out = is_child & (age_com == 25) & (rng.random(n_com) < 0.3)
    age_com = np.where(aging_out, 26, age_com)
    female_com = np.where(
        pos == 0,
        sub_female[fam],
        np.where(
            is_spouse,
            np.where(rng.random(n_com) < 0.95, ~sub_female[fam], sub_female[fam]),
            rng.random(n_com) < 0.5,
        ),
    )
    dob_com = first_of_month(y - age_com, np.ones(n_com, int)) + rng.integers(0, 365, n_com)
    plan_fam = np.where(rng.random(n_fam) < 0.55, 2, 3)
    jan_open = rng.random(n_fam) < 0.4
    eff_fam = first_of_month(rng.integers(y - 6, y, n_fam), np.where(jan_open, 1, rng.integers(1, 13, n_fam)))
    new_hire = rng.random(n_fam) < 0.12
    eff_fam = np.where(new_hire, first_of_month(np.full(n_fam, y), rng.integers(2, 13, n_fam)), eff_fam)
    fam_start = np.maximum(eff_fam, jan1)
    ends = rng.random(n_fam) < 0.09
    term_fam = np.where(ends, month_end(fam_start + (rng.random(n_fam) * (dec31 - fam_start + 1)).astype(int)), NA)
    reason_fam = np.where(
        ends, rng.choice(np.array(["voluntary", "involuntary", "other"]), n_fam, p=[0.6, 0.25, 0.15]), ""
    )
    eff_com = eff_fam[fam].copy()
    term_com = term_fam[fam].copy()
    reason_com = reason_fam[fam].copy()
    # Dependents age out at 26: coverage ends the last day of the birthday month.
    birthday26 = dob_com + (
        first_of_month(y - age_com + 26, np.ones(n_com, int)) - first_of_month(y - age_com, np.ones(n_com, int))
    )
    out_end = month_end(birthday26)
    ages_out = aging_out & (out_end >= np.maximum(eff_com, jan1)) & ((term_com == NA) | (out_end < term_com))
    term_com = np.where(ages_out, out_end, term_com)
    reason_com = np.where(ages_out, "other", reason_com)
    age_com = np.where(aging_out & ~ages_out, 25, age_com)
    dob_com = np.where(aging_out & ~ages_out, dob_com + 365, dob_com)

    # ---- identifiers, names, addresses
    numbers = unique_ints(rng, 100_000_000, 1_000_000_000, n_med + n_fam)
    card_med = np.char.add("SYN", numbers[:n_med].astype(str))
    card_fam = np.char.add("SYN", numbers[n_med:].astype(str))
    female = np.concatenate([female_med, female_com])
    n = n_med + n_com
    first = np.where(
        female,
        people["female"][rng.integers(0, len(people["female"]), n)],
        people["male"][rng.integers(0, len(people["male"]), n)],
    )
    last_fam = people["last"][rng.integers(0, len(people["last"]), n_fam)]
    last = np.concatenate([people["last"][rng.integers(0, len(people["last"]), n_med)], last_fam[fam]])
    place_med, place_fam = _places(rng, people, n_med), _places(rng, people, n_fam)
    place = np.concatenate([place_med, place_fam[fam]])
    addr = np.concatenate(
        [_street_addresses(rng, people, n_med, True), _street_addresses(rng, people, n_fam, True)[fam]]
    )
    zip_tail_fam = rng.integers(0, 100, n_fam)
    zip_tail = np.concatenate([rng.integers(0, 100, n_med), zip_tail_fam[fam]])
    places = people["places"]
    mbi = np.concatenate([mbis(rng, n_med).astype(str), np.full(n_com, "", dtype=object)])
    person_code = np.concatenate(
        [np.full(n_med, "01"), np.where(pos == 0, "01", np.where(is_spouse, "02", zpad((3 + child_no), 2)))]
    )
    relationship = np.concatenate([np.ones(n_med, int), np.where(pos == 0, 1, np.where(is_spouse, 2, 3))])
    is_med = np.concatenate([np.ones(n_med, bool), np.zeros(n_com, bool)])
    dob = np.concatenate([dob_med, dob_com])
    ltc = is_med & (np.concatenate([age_med, age_com]) >= 80) & (rng.random(n) < 0.06)
    df = pd.DataFrame(
        {
            "cardholder_id": np.concatenate([card_med, card_fam[fam]]),
            "person_code": person_code,
            "relationship_code": relationship,
            "first_name": first,
            "last_name": last,
            "dob": dob,
            "gender": np.where(female, "F", "M"),
            "address_line1": addr,
            "city": np.char.upper(places["city"].to_numpy()[place].astype(str)),
            "state": places["state"].to_numpy()[place],
            "zip5": np.char.add(places["zip3"].to_numpy()[place].astype(str), zpad(zip_tail, 2)),
            "mbi": mbi,
            "is_med": is_med,
            "disabled": np.concatenate([disabled, np.zeros(n_com, bool)]),
            "age_start": age_on(dob, jan1),
            "age_end": age_on(dob, dec31),
            "place": place,
            "ltc": ltc,
        }
    )
    eff = np.concatenate([eff_med, eff_com])
    term = np.concatenate([term_med, term_com])
    reason = np.concatenate([reason_med, reason_com])
    plan1 = np.concatenate([plan_med, plan_fam[fam]])
    spans = pd.DataFrame(
        {
            "member": np.arange(n),
            "plan": plan1,
            "effective_day": eff,
            "termination_day": term,
            "reason": reason,
        }
    )
    sw_full = np.concatenate([switch_day, np.full(n_com, NA)])
    plan2 = np.where(sw_full != NA, 1 - plan1, -1)
    has2 = np.flatnonzero(sw_full != NA)
    spans2 = pd.DataFrame(
        {
            "member": has2,
            "plan": plan2[has2],
            "effective_day": sw_full[has2],
            "termination_day": NA,
            "reason": "",
        }
    )
    spans = pd.concat([spans, spans2], ignore_index=True).sort_values(["member", "effective_day"], kind="stable")
    win_start = np.maximum(eff, jan1)
    win_end = np.where(sw_full != NA, dec31, np.where(term == NA, dec31, np.minimum(term, dec31)))
    return Members(
        df,
        spans.reset_index(drop=True),
        win_start,
        win_end,
        sw_full,
        plan1,
        plan2,
        np.concatenate([death_day, np.full(n_com, NA)]),
    )


# ---------------------------------------------------------------------------------------------------
# therapies and claim requests
# ---------------------------------------------------------------------------------------------------
KIND_CHRONIC, KIND_INSULIN, KIND_SPECIALTY, KIND_ACUTE, KIND_VACCINE, KIND_STEP = range(6)
PA_APPROVED, PA_DENIED, PA_WITHDRAWN = range(3)
RESPIRATORY_CLASSES = {"PENICILLINS", "MACROLIDES", "CEPHALOSPORINS", "ANTITUSSIVES", "CORTICOSTEROIDS"}
WINTER = np.array([1.6, 1.5, 1.3, 1.0, 0.8, 0.7, 0.7, 0.7, 0.8, 1.0, 1.2, 1.5])
FLU_SEASON = np.array([3.0, 3.0, 1.5, 0.3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 1.0, 2.5])


@dataclass
class World:
    """Everything the claim generator looks things up in."""

    params: Params
    cat: Catalog
    mem: Members
    ph: pd.DataFrame
    pr: pd.DataFrame
    pa_products: dict  # formulary -> boolean array over products: PA required
    excluded: dict  # formulary -> product indices excluded
    ql: dict  # formulary -> (products, qty, days) with a quantity limit
    step_rows: np.ndarray  # boolean over curated rows: brand needs a prior generic of the class
    home: np.ndarray  # member -> home retail pharmacy
    ltc_pharmacy: np.ndarray  # member -> LTC pharmacy (or -1)
    pcp: np.ndarray  # member -> primary care prescriber
    retail_in: dict  # network -> retail pharmacies in it all year
    mail: np.ndarray
    specialty: np.ndarray
    dea_prescribers: np.ndarray
    specialist: dict  # therapeutic class -> prescribers


@dataclass
class Therapies:
    member: np.ndarray
    row: np.ndarray
    product: np.ndarray
    kind: np.ndarray
    days: np.ndarray
    qty: np.ndarray  # thousandths of a unit
    start: np.ndarray
    end: np.ndarray
    max_fills: np.ndarray
    pharmacy: np.ndarray
    prescriber: np.ndarray
    daw: np.ndarray
    pa: np.ndarray  # -1 no PA needed, else PA_* status
    continuing: np.ndarray

    @staticmethod
    def concat(parts: list[Therapies]) -> Therapies:
        return Therapies(*(np.concatenate([getattr(p, f) for p in parts]) for f in Therapies.__dataclass_fields__))

    def take(self, idx) -> Therapies:
        return Therapies(*(getattr(self, f)[idx] for f in Therapies.__dataclass_fields__))

    def __len__(self) -> int:
        return len(self.member)


def build_world(rng, params, cat, mem, ph, pr, participations) -> World:
    products = cat.products
    n_prod = len(products)
    entries = cat.entries
    pa_products, excluded, ql = {}, {}, {}
    for formulary in (PARTD_FORMULARY, COMM_FORMULARY):
        e = entries[entries["formulary_code"] == formulary].reset_index(drop=True)
        pa_products[formulary] = e["pa_required"].to_numpy(bool)
        excluded[formulary] = np.flatnonzero(e["is_excluded"].to_numpy(bool))
        has_ql = np.flatnonzero(e["ql_quantity"].to_numpy() != "")
        ql[formulary] = (
            has_ql,
            e["ql_quantity"].to_numpy()[has_ql].astype(float),
            e["ql_days"].to_numpy()[has_ql].astype(int),
        )
        assert len(e) == n_prod
    rules = cat.rules
    step_rows = np.zeros(len(cat.rows), bool)
    for r in rules[rules["rule"] == "step"].itertuples():
        step_rows |= ((cat.rows["generic_name"] == r.generic_name) & (cat.rows["strength"] == r.strength)).to_numpy()

    ptype, status = ph["pharmacy_type"].to_numpy(), ph["status"].to_numpy()
    retail_in = {
        PARTD_NETWORK: np.flatnonzero((ptype == "retail") & np.isin(status, ("both", "pd_only"))),
        COMM_NETWORK: np.flatnonzero((ptype == "retail") & np.isin(status, ("both", "comm_only"))),
    }
    n = len(mem.df)
    is_med = mem.df["is_med"].to_numpy()
    member_place = mem.df["place"].to_numpy()
    home = np.zeros(n, dtype=np.int64)
    ph_place = ph["place"].to_numpy()
    for network, med in ((PARTD_NETWORK, True), (COMM_NETWORK, False)):
        pool = retail_in[network]
        who = np.flatnonzero(is_med == med)
        # Near home: a pharmacy of the member's city when there is one.
        by_city = pd.Series(pool).groupby(ph_place[pool]).apply(lambda s: s.to_numpy())
        fallback = pool[rng.integers(0, len(pool), len(who))]
        choice = fallback.copy()
        for place, members_here in pd.Series(who).groupby(member_place[who]):
            if place in by_city.index:
                local = by_city[place]
                pick = local[rng.integers(0, len(local), len(members_here))]
                choice[np.searchsorted(who, members_here.to_numpy())] = pick
        home[who] = choice
    ltc_pool = np.flatnonzero(ptype == "long_term_care")
    ltc_pharmacy = np.where(mem.df["ltc"].to_numpy(), ltc_pool[rng.integers(0, len(ltc_pool), n)], -1)
    spec, has_dea = pr["specialty"].to_numpy(), pr["has_dea"].to_numpy()
    dea_prescribers = np.flatnonzero(has_dea)
    adult_pcp = np.flatnonzero(np.isin(spec, PRIMARY_CARE) & has_dea)
    peds = np.flatnonzero((spec == "PEDIATRICS") & has_dea)
    child = mem.df["age_end"].to_numpy() < 18
    pcp = np.where(
        child & (len(peds) > 0),
        peds[rng.integers(0, max(1, len(peds)), n) % max(1, len(peds))] if len(peds) else 0,
        adult_pcp[rng.integers(0, len(adult_pcp), n)],
    )
    specialist = {c: np.flatnonzero(spec == s) for c, s in SPECIALIST_FOR_CLASS.items()}
    return World(
        params,
        cat,
        mem,
        ph,
        pr,
        pa_products,
        excluded,
        ql,
        step_rows,
        home,
        ltc_pharmacy,
        pcp,
        retail_in,
        np.flatnonzero(ptype == "mail"),
        np.flatnonzero(ptype == "specialty"),
        dea_prescribers,
        specialist,
    )


class _Catalog:
    """Curated rows as arrays, and their products."""

    def __init__(self, cat: Catalog):
        r = cat.rows
        self.sex = np.select([r["sex"] == "M", r["sex"] == "F"], [1, 2], 0)
        self.min_age, self.max_age = r["min_age"].to_numpy(), r["max_age"].to_numpy()
        self.commercial_only = (r["plans"] == "commercial").to_numpy()
        self.kind = r["kind"].to_numpy()
        self.days, self.qty = r["days"].to_numpy(), r["qty"].to_numpy()
        self.ninety = (r["ninety"] == "y").to_numpy()
        self.weight = r["weight"].to_numpy()
        self.cls = r["therapeutic_class"].to_numpy()
        self.max_fills = r["max_fills"].to_numpy()
        self.dea = r["dea_schedule"].to_numpy()
        self.market = r["market"].to_numpy()
        self.cheap_generic = ((r["kind"] == "chronic") & (r["generic_nadac"] <= 0.06)).to_numpy()
        p = cat.products
        n_rows = len(r)
        self.brand = np.full(n_rows, -1)
        gens: list[list[int]] = [[] for _ in range(n_rows)]
        for i, (row, is_brand) in enumerate(zip(p["row"], p["is_brand"], strict=True)):
            if is_brand:
                self.brand[row] = i
            else:
                gens[row].append(i)
        self.gen_count = np.array([len(g) for g in gens])
        self.gen_table = np.full((n_rows, max(1, self.gen_count.max())), -1)
        for row, g in enumerate(gens):
            self.gen_table[row, : len(g)] = g
        # Generic products per class (step therapy prerequisites).
        gp = p[~p["is_brand"]]
        self.class_generics = {c: g.index.to_numpy() for c, g in gp.groupby("therapeutic_class")}
        self.product_row = p["row"].to_numpy()
        self.product_brand = p["is_brand"].to_numpy()


def _eligible(w: World, c: _Catalog, members: np.ndarray, rows: np.ndarray) -> np.ndarray:
    df = w.mem.df
    sex = np.where(df["gender"].to_numpy()[members] == "M", 1, 2)
    return (
        ((c.sex[rows] == 0) | (c.sex[rows] == sex))
        & (df["age_start"].to_numpy()[members] >= c.min_age[rows])
        & (df["age_end"].to_numpy()[members] <= c.max_age[rows])
        & ~(c.commercial_only[rows] & df["is_med"].to_numpy()[members])
    )


def _draw_rows(rng, w, c, members, candidates) -> tuple[np.ndarray, np.ndarray]:
    """A weighted drug row per member, redrawn until eligible (age, sex, plan); ok = found one."""
    p = c.weight[candidates] / c.weight[candidates].sum()
    rows = candidates[rng.choice(len(candidates), size=len(members), p=p)]
    ok = _eligible(w, c, members, rows)
    for _ in range(25):
        bad = np.flatnonzero(~ok)
        if not len(bad):
            break
        rows[bad] = candidates[rng.choice(len(candidates), size=len(bad), p=p)]
        ok[bad] = _eligible(w, c, members[bad], rows[bad])
    return rows, ok


def _choose_product(rng, c: _Catalog, rows: np.ndarray, p_brand: float) -> np.ndarray:
    n = len(rows)
    use_brand = (c.market[rows] == "N") | ((c.market[rows] == "O") & (rng.random(n) < p_brand))
    gi = (rng.random(n) * np.maximum(c.gen_count[rows], 1)).astype(int)
    return np.where(use_brand, c.brand[rows], c.gen_table[rows, gi])


def _network_of(w: World, members: np.ndarray) -> np.ndarray:
    return np.where(w.mem.df["is_med"].to_numpy()[members], PARTD_NETWORK, COMM_NETWORK)


def _formulary_of(w: World, members: np.ndarray) -> np.ndarray:
    return np.where(w.mem.df["is_med"].to_numpy()[members], PARTD_FORMULARY, COMM_FORMULARY)


def _other_retail(rng, w: World, members: np.ndarray) -> np.ndarray:
    out = np.empty(len(members), dtype=np.int64)
    med = w.mem.df["is_med"].to_numpy()[members]
    for network, flag in ((PARTD_NETWORK, True), (COMM_NETWORK, False)):
        pool, idx = w.retail_in[network], np.flatnonzero(med == flag)
        out[idx] = pool[rng.integers(0, len(pool), len(idx))]
    return out


def _pa_status(rng, w: World, members: np.ndarray, products: np.ndarray) -> np.ndarray:
    """-1 when the member's formulary needs no PA for the product, else approved / denied / withdrawn."""
    needs = np.where(
        w.mem.df["is_med"].to_numpy()[members],
        w.pa_products[PARTD_FORMULARY][products],
        w.pa_products[COMM_FORMULARY][products],
    )
    status = rng.choice(3, size=len(members), p=[0.90, 0.08, 0.02])
    return np.where(needs, status, -1)


def _uniform_day(rng, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return lo + (rng.random(len(lo)) * (hi - lo + 1)).astype(np.int64)


def make_chronic(rng, w: World, c: _Catalog, scale: float) -> Therapies:
    df = w.mem.df
    age = df["age_end"].to_numpy()
    lam = np.select([age < 18, age < 35, age < 50, age < 65, age < 75, age < 85], [0.15, 0.45, 1.1, 2.2, 3.4, 4.2], 4.6)
    lam = lam + df["disabled"].to_numpy() * 1.0
    counts = np.minimum(rng.poisson(lam * scale), 40)
    members = np.repeat(np.arange(len(df)), counts)
    candidates = np.flatnonzero((c.kind == "chronic") & (c.weight > 0))
    rows, ok = _draw_rows(rng, w, c, members, candidates)
    members, rows = members[ok], rows[ok]
    # One drug per therapeutic class and member (no unintended therapeutic duplication).
    key = members * 1000 + pd.factorize(c.cls)[0][rows]
    _, first = np.unique(key, return_index=True)
    keep = np.sort(first)
    members, rows = members[keep], rows[keep]
    return _maintenance(rng, w, c, members, rows, KIND_CHRONIC, p_brand=0.04)


def make_insulin(rng, w: World, c: _Catalog, scale: float) -> Therapies:
    df = w.mem.df
    p = np.where(df["is_med"].to_numpy(), 0.05, np.where(df["age_start"].to_numpy() >= 18, 0.015, 0.0))
    members = np.flatnonzero(rng.random(len(df)) < np.minimum(p * min(scale, 3.0), 1.0))
    rows, ok = _draw_rows(rng, w, c, members, np.flatnonzero(c.kind == "insulin"))
    return _maintenance(rng, w, c, members[ok], rows[ok], KIND_INSULIN, p_brand=0.0)


def make_specialty(rng, w: World, c: _Catalog, scale: float) -> Therapies:
    df = w.mem.df
    p = np.where(df["is_med"].to_numpy(), 0.009, np.where(df["age_start"].to_numpy() >= 12, 0.007, 0.0))
    members = np.flatnonzero(rng.random(len(df)) < np.minimum(p * min(scale, 3.0), 1.0))
    rows, ok = _draw_rows(rng, w, c, members, np.flatnonzero(c.kind == "specialty"))
    t = _maintenance(rng, w, c, members[ok], rows[ok], KIND_SPECIALTY, p_brand=0.3)
    if len(t):
        t.pharmacy = w.specialty[rng.integers(0, len(w.specialty), len(t))]
        for cls, pool in w.specialist.items():
            idx = np.flatnonzero(c.cls[t.row] == cls)
            if len(pool) and len(idx):
                t.prescriber[idx] = pool[rng.integers(0, len(pool), len(idx))]
    return t


def _maintenance(rng, w: World, c: _Catalog, members, rows, kind: int, p_brand: float) -> Therapies:
    """Refilled therapies: product, days supply (30 or 90), pharmacy, prescriber, start and end."""
    mem, df = w.mem, w.mem.df
    n = len(members)
    product = _choose_product(rng, c, rows, p_brand)
    brand_o = c.product_brand[product] & (c.market[rows] == "O")
    daw = np.where(brand_o, np.where(rng.random(n) < 0.55, 1, 2), 0)
    is_med = df["is_med"].to_numpy()[members]
    ltc = df["ltc"].to_numpy()[members]
    ninety = c.ninety[rows] & ~ltc & (rng.random(n) < np.where(is_med, 0.40, 0.25))
    days = np.where(ninety, np.where(c.days[rows] == 28, 84, 90), c.days[rows])
    qty = np.round(c.qty[rows] * 1000).astype(np.int64) * np.where(ninety, 3, 1)
    mail = ninety & (rng.random(n) < 0.55)
    pharmacy = np.where(rng.random(n) < 0.9, w.home[members], _other_retail(rng, w, members))
    pharmacy = np.where(mail, w.mail[rng.integers(0, len(w.mail), n)], pharmacy)
    pharmacy = np.where(ltc, w.ltc_pharmacy[members], pharmacy)
    prescriber = np.where(
        rng.random(n) < 0.85, w.pcp[members], w.dea_prescribers[rng.integers(0, len(w.dea_prescribers), n)]
    )
    ws, we = mem.win_start[members], mem.win_end[members]
    continuing = rng.random(n) < 0.75
    start = np.where(
        continuing,
        ws + (rng.random(n) * np.minimum(days, we - ws + 1)).astype(np.int64),
        _uniform_day(rng, ws, we),
    )
    stops = rng.random(n) < 0.08
    end = np.where(stops, np.minimum(we, start + 30 + (rng.random(n) * 300).astype(np.int64)), we)
    pa = _pa_status(rng, w, members, product)
    max_fills = np.where(pa > PA_APPROVED, 1, c.max_fills[rows])
    t = Therapies(
        members,
        rows,
        product,
        np.full(n, kind),
        days,
        qty,
        start,
        end,
        max_fills,
        pharmacy,
        prescriber,
        daw,
        pa,
        continuing,
    )
    return _step_therapy(rng, w, c, t)


def _step_therapy(rng, w: World, c: _Catalog, t: Therapies) -> Therapies:
    """A brand under step therapy starts in the year, after one fill of a generic of the same class."""
    idx = np.flatnonzero(w.step_rows[t.row] & c.product_brand[t.product])
    if not len(idx):
        return t
    ws, we = w.mem.win_start[t.member[idx]], w.mem.win_end[t.member[idx]]
    long_enough = we - ws >= 90
    short = idx[~long_enough]
    t.product[short] = c.gen_table[t.row[short], 0]  # too little time in the year: the generic instead
    t.daw[short] = 0
    idx, ws, we = idx[long_enough], ws[long_enough], we[long_enough]
    if not len(idx):
        return t
    t.start[idx] = _uniform_day(rng, ws + 45, we - 30)
    t.end[idx] = np.maximum(t.end[idx], t.start[idx])
    t.continuing[idx] = False
    prior_product = np.array([rng.choice(c.class_generics[c.cls[r]]) for r in t.row[idx]])
    n = len(idx)
    prior = Therapies(
        t.member[idx],
        c.product_row[prior_product],
        prior_product,
        np.full(n, KIND_STEP),
        np.full(n, 30),
        t.qty[idx] // np.maximum(1, t.days[idx] // 30),
        t.start[idx] - 25 - (rng.random(n) * 20).astype(np.int64),
        t.start[idx],
        np.ones(n, np.int64),
        t.pharmacy[idx],
        t.prescriber[idx],
        np.zeros(n, np.int64),
        np.full(n, -1),
        np.zeros(n, bool),
    )
    return Therapies.concat([t, prior])


def make_acute(rng, w: World, c: _Catalog, members: np.ndarray) -> Therapies:
    """One-off courses (antibiotics, steroids, pain, ...), dated with the season."""
    y = w.params.year
    candidates = np.flatnonzero((c.kind == "acute") & (c.weight > 0))
    rows, ok = _draw_rows(rng, w, c, members, candidates)
    members, rows = members[ok], rows[ok]
    n = len(members)
    month_w = np.where(np.isin(c.cls[rows], list(RESPIRATORY_CLASSES))[:, None], WINTER[None, :], 1.0)
    month_w = np.where((c.cls[rows] == "ANTIVIRALS - INFLUENZA")[:, None], FLU_SEASON[None, :], month_w)
    cum = np.cumsum(month_w, axis=1)
    month = (rng.random(n)[:, None] * cum[:, -1:] > cum).sum(axis=1) + 1
    first = first_of_month(np.full(n, y), month)
    when = first + (rng.random(n) * (month_end(first) - first + 1)).astype(np.int64)
    ws, we = w.mem.win_start[members], w.mem.win_end[members]
    outside = (when < ws) | (when > we)
    when = np.where(outside, _uniform_day(rng, ws, we), when)
    product = _choose_product(rng, c, rows, 0.03)
    pharmacy = np.where(rng.random(n) < 0.8, w.home[members], _other_retail(rng, w, members))
    pharmacy = np.where(w.ltc_pharmacy[members] >= 0, w.ltc_pharmacy[members], pharmacy)
    prescriber = np.where(
        rng.random(n) < 0.5, w.pcp[members], w.dea_prescribers[rng.integers(0, len(w.dea_prescribers), n)]
    )
    daw = np.where(c.product_brand[product] & (c.market[rows] == "O"), 1, 0)
    pa = _pa_status(rng, w, members, product)
    return Therapies(
        members,
        rows,
        product,
        np.full(n, KIND_ACUTE),
        c.days[rows],
        np.round(c.qty[rows] * 1000).astype(np.int64),
        when,
        when,
        np.ones(n, np.int64),
        pharmacy,
        prescriber,
        daw,
        pa,
        np.zeros(n, bool),
    )


def make_vaccines(rng, w: World, c: _Catalog, scale: float) -> Therapies:
    df, y = w.mem.df, w.params.year
    age0, age1, is_med = df["age_start"].to_numpy(), df["age_end"].to_numpy(), df["is_med"].to_numpy()
    brand_name = w.cat.rows["brand_name"].to_numpy()
    f = min(scale, 1.0)
    plan = [  # brand, who, probability, first and last day of the season
        ("Fluzone High-Dose", is_med & (age0 >= 65), 0.50, day(y, 9, 1), day(y, 11, 30)),
        (
            "Fluarix",
            (age0 >= 3) & (age1 <= 64),
            np.where(age1 < 18, 0.20, 0.25),
            day(y, 9, 1),
            day(y, 11, 30),
        ),
        ("Shingrix", age0 >= 50, 0.05, day(y, 1, 1), day(y, 12, 31)),
        ("Prevnar 20", age0 >= 65, 0.03, day(y, 1, 1), day(y, 12, 31)),
        ("Arexvy", age0 >= 60, 0.04, day(y, 8, 1), day(y, 12, 31)),
        ("Boostrix", age0 >= 11, 0.015, day(y, 1, 1), day(y, 12, 31)),
    ]
    parts = []
    for brand, who, p, lo, hi in plan:
        row = int(np.flatnonzero(brand_name == brand)[0])
        members = np.flatnonzero(who & (rng.random(len(df)) < np.asarray(p) * f))
        ws, we = w.mem.win_start[members], w.mem.win_end[members]
        when = _uniform_day(rng, np.maximum(ws, lo), np.minimum(we, hi))
        fits = np.maximum(ws, lo) <= np.minimum(we, hi)
        members, when = members[fits], when[fits]
        if c.max_fills[row] == 2:  # second dose 2 to 6 months later, when still covered
            second = when + 60 + (rng.random(len(when)) * 120).astype(np.int64)
            has2 = second <= w.mem.win_end[members]
            members, when = np.concatenate([members, members[has2]]), np.concatenate([when, second[has2]])
        n = len(members)
        parts.append(
            Therapies(
                members,
                np.full(n, row),
                np.full(n, c.brand[row]),
                np.full(n, KIND_VACCINE),
                np.ones(n, np.int64),
                np.full(n, int(round(c.qty[row] * 1000))),
                when,
                when,
                np.ones(n, np.int64),
                w.home[members],
                w.pcp[members],
                np.zeros(n, np.int64),
                np.full(n, -1),
                np.zeros(n, bool),
            )
        )
    return Therapies.concat(parts)


def make_therapies(rng, w: World, c: _Catalog, scale: float) -> Therapies:
    df = w.mem.df
    age = df["age_end"].to_numpy()
    cover = (w.mem.win_end - w.mem.win_start + 1) / 365.0
    lam_acute = np.select([age < 18, age < 65], [1.6, 1.1], 1.5) * cover * scale
    acute_members = np.repeat(np.arange(len(df)), rng.poisson(lam_acute))
    return Therapies.concat(
        [
            make_chronic(rng, w, c, scale),
            make_insulin(rng, w, c, scale),
            make_specialty(rng, w, c, scale),
            make_acute(rng, w, c, acute_members),
            make_vaccines(rng, w, c, scale),
        ]
    )


def estimated_fills(t: Therapies) -> int:
    single = t.start == t.end
    n = np.where(single, 1, (t.end - t.start) // np.maximum(1, t.days + 1) + 1)
    return int(np.minimum(n, t.max_fills).sum())


@dataclass
class Fills:
    therapy: np.ndarray
    k: np.ndarray  # 0 = first fill of the therapy in the year
    date: np.ndarray
    early: np.ndarray


def expand(rng, t: Therapies) -> Fills:
    """Fill dates: refills every ~28-32 / 84-92 days, some late, some early (refill too soon)."""
    n = len(t)
    parts = []
    block = 200_000
    for lo in range(0, n, block):
        idx = np.arange(lo, min(n, lo + block))
        d = t.days[idx]
        span = t.end[idx] - t.start[idx]
        kmax = int(min(np.max(span // np.maximum(1, (d * 0.6).astype(int)) + 1), np.max(t.max_fills[idx])))
        kmax = max(kmax, 1)
        shape = (len(idx), kmax)
        long = (d >= 84)[:, None]
        jitter = np.where(long, rng.integers(-6, 4, size=shape), rng.integers(-2, 4, size=shape))
        late = rng.random(shape) < 0.10
        early = rng.random(shape) < 0.04
        early[:, 0] = False
        gap = d[:, None] + jitter + np.where(late, rng.integers(5, 31, size=shape), 0)
        early_gap = np.round(d[:, None] * rng.uniform(0.6, 0.72, size=shape)).astype(np.int64)
        gap = np.where(early, early_gap, gap)
        # After an early refill the member has supply left over: the next refill comes that much later.
        gap[:, 1:] += np.where(early[:, :-1], (d[:, None] - early_gap)[:, :-1], 0)
        gap[:, 0] = 0
        dates = t.start[idx][:, None] + np.cumsum(gap, axis=1)
        k = np.broadcast_to(np.arange(kmax), shape)
        valid = (dates <= np.maximum(t.end[idx], t.start[idx])[:, None]) & (k < t.max_fills[idx][:, None])
        rows, cols = np.nonzero(valid)
        parts.append(Fills(idx[rows], cols, dates[rows, cols], early[rows, cols]))
    if not parts:
        z = np.zeros(0, np.int64)
        return Fills(z, z, z, np.zeros(0, bool))
    return Fills(*(np.concatenate([getattr(p, f) for p in parts]) for f in Fills.__dataclass_fields__))


# ---------------------------------------------------------------------------------------------------
# prior authorizations, M3P elections
# ---------------------------------------------------------------------------------------------------
DENIAL_REASONS = np.array(
    [
        "clinical criteria not met",
        "formulary alternatives not tried",
        "insufficient documentation from prescriber",
    ]
)


def build_prior_auths(rng, w: World, t: Therapies, first_fill: np.ndarray, last_fill: np.ndarray) -> pd.DataFrame:
    """One PA per therapy that needs one: mostly approved from a few days before the first fill for a
    year, some denied or withdrawn (those therapies stop after one attempt)."""
    idx = np.flatnonzero(t.pa >= 0)
    n = len(idx)
    first, last = first_fill[idx], last_fill[idx]
    status = t.pa[idx]
    expedited = rng.random(n) < 0.1
    received_day = first - 1 - (rng.random(n) * 9).astype(np.int64)
    effective = np.maximum(received_day + 1, last - 364)
    effective = np.minimum(effective, first)
    received_day = np.minimum(received_day, effective - 1)
    received = received_day * 86400 + (8 * 3600 + (rng.random(n) * 10 * 3600).astype(np.int64))
    window_h = np.where(expedited, 24, 72)
    decided = received + (3600 + rng.random(n) * (window_h - 2) * 3600).astype(np.int64)
    numbers = unique_ints(rng, 1_000_000_000, 10_000_000_000, n)
    approved = status == PA_APPROVED
    product = t.product[idx]
    reason = np.select(
        [status == PA_DENIED, status == PA_WITHDRAWN],
        [DENIAL_REASONS[rng.integers(0, 3, n)], "request withdrawn by the prescriber"],
        "meets coverage criteria",
    )
    return pd.DataFrame(
        {
            "therapy": idx,
            "pa_number": numbers.astype(str),
            "member": t.member[idx],
            "drug_group": w.cat.products["drug_group"].to_numpy()[product],
            "prescriber": t.prescriber[idx],
            "urgency": np.where(expedited, "expedited", "standard"),
            "status": np.select([status == PA_DENIED, status == PA_WITHDRAWN], ["denied", "withdrawn"], "approved"),
            "received_s": received,
            "due_s": received + window_h * 3600,
            "decided_s": decided,
            "decision_reason": reason,
            "effective_day": np.where(approved, effective, NA),
            "expiration_day": np.where(approved, effective + 364, NA),
            "approved_qty": np.where(approved, t.qty[idx], NA),
        }
    )


ELECTION_COLUMNS = ["member", "source", "received_s", "processed_s", "opt_out_s"]


def build_elections(rng, w: World, t: Therapies) -> pd.DataFrame:
    """M3P election requests of about 2.5% of Part D members covered to the end of the year, more often
    those with costly drugs: received before the plan year (effective January 1) or during it, by phone,
    web or mail, processed within a day; some opt out later. The database load writes them with the effect
    of the M3P area's ppp.elect and ppp.opt_out (seeds/synthetic_sql/data_activity.sql).
    Point-of-sale elections need an adjudicated claim, renewals a previous year, terminations billing:
    none of those are generated."""
    y = w.params.year
    empty = pd.DataFrame({c: np.zeros(0, np.int64) for c in ELECTION_COLUMNS})
    if y < 2025:
        return empty
    df, mem = w.mem.df, w.mem
    jan1, dec31 = day(y, 1, 1), day(y, 12, 31)
    c_brand = w.cat.products["is_brand"].to_numpy()[t.product]
    costly = np.zeros(len(df))
    np.add.at(costly, t.member, np.where(t.kind == KIND_SPECIALTY, 20.0, np.where(c_brand, 2.0, 0.0)))
    eligible = df["is_med"].to_numpy() & (mem.switch_day == NA) & (mem.win_end == dec31) & (mem.win_start < dec31 - 60)
    weight = np.where(eligible, 1.0 + costly, 0.0)
    target = min(int(round(0.025 * df["is_med"].sum())), int(eligible.sum()))
    if target == 0:
        return empty
    members = np.sort(rng.choice(len(df), size=target, replace=False, p=weight / weight.sum()))
    n = len(members)
    ws = mem.win_start[members]
    before_year = (ws == jan1) & (rng.random(n) < 0.4)
    received_day = np.where(
        before_year, day(y - 1, 11, 15) + (rng.random(n) * 45).astype(np.int64), _uniform_day(rng, ws, dec31 - 60)
    )
    received = received_day * 86400 + 9 * 3600 + (rng.random(n) * 9 * 3600).astype(np.int64)
    processed = received + 1800 + (rng.random(n) * 16 * 3600).astype(np.int64)
    effective = np.where(before_year, jan1, processed // 86400)
    sources = np.array(["phone", "web", "mail"])
    source = sources[rng.choice(3, n, p=[0.4, 0.45, 0.15])]
    opt_out_day = np.minimum(effective + 30 + (rng.random(n) * 150).astype(np.int64), dec31)
    opt_out = np.where(rng.random(n) < 0.08, opt_out_day * 86400 + 10 * 3600, NA)
    return pd.DataFrame(
        {"member": members, "source": source, "received_s": received, "processed_s": processed, "opt_out_s": opt_out}
    )


# ---------------------------------------------------------------------------------------------------
# the claim requests
# ---------------------------------------------------------------------------------------------------
def price(rng, w: World, c: _Catalog, product, qty, day_of_service, pharmacy, days):
    """What the pharmacy submits: ingredient cost near AWP, its usual fee, U&C (a $4 / $10 cash list for
    cheap generics at some chains, else a bit above the gross amount), gross = ingredient + fee. Cents."""
    slot = np.clip(np.searchsorted(w.cat.slot_starts, day_of_service, side="right") - 1, 0, 4)
    awp = w.cat.awp[product, slot]
    factor = w.ph["awp_factor"].to_numpy()[pharmacy]
    ingredient = np.round(awp * qty / 1000.0 * factor * 100).astype(np.int64)
    ingredient = np.maximum(ingredient, 1)
    fee = w.ph["fee_cents"].to_numpy()[pharmacy]
    gross = ingredient + fee
    row = c.product_row[product]
    cash = w.ph["cash_program"].to_numpy()[pharmacy] & c.cheap_generic[row] & ~c.product_brand[product]
    cash_price = np.where(days >= 84, 1000, 400)
    markup = np.round(gross * rng.uniform(1.0, 1.25, len(gross))).astype(np.int64)
    uc = np.where(cash, cash_price, markup)
    return ingredient, fee, uc, gross


@dataclass
class Claims:
    member: np.ndarray
    cardholder: np.ndarray  # index into the cardholder table (members, then unknown ids)
    plan: np.ndarray
    date: np.ndarray
    pharmacy: np.ndarray
    prescriber: np.ndarray  # index into the prescriber id table (prescribers, then invalid NPIs)
    product: np.ndarray  # catalog product, or -1 for a code not in the catalog
    product_code: np.ndarray  # index into the product code table (catalog, then unknown codes)
    qty: np.ndarray
    days: np.ndarray
    fill_number: np.ndarray
    daw: np.ndarray
    rx: np.ndarray
    written: np.ndarray
    scc: np.ndarray
    pa_number: np.ndarray  # index into the PA table or -1
    ingredient: np.ndarray
    fee: np.ndarray
    uc: np.ndarray
    gross: np.ndarray
    kind: np.ndarray  # therapy kind
    problem: np.ndarray  # index into PROBLEM_KINDS or -1

    def take(self, idx) -> Claims:
        return Claims(*(getattr(self, f)[idx] for f in Claims.__dataclass_fields__))


def assemble_claims(rng, w: World, c: _Catalog, t: Therapies, f: Fills, pas: pd.DataFrame) -> Claims:
    th = f.therapy
    n = len(th)
    kind, days = t.kind[th], t.days[th]
    dea = c.dea[t.row[th]]
    refills = np.select(
        [
            np.isin(kind, (KIND_ACUTE, KIND_VACCINE, KIND_STEP)),
            dea == 2,
            dea >= 3,
            kind == KIND_SPECIALTY,
            days >= 84,
        ],
        [0, 0, 5, 5, 3],
        11,
    )
    offset_t = (rng.random(len(t)) * 12).astype(np.int64) * t.continuing
    total = offset_t[th] % (refills + 1) + f.k
    fill_number = total % (refills + 1)
    rx_seq = total // (refills + 1)
    _, rx_idx = np.unique(th.astype(np.int64) * 64 + rx_seq, return_inverse=True)
    n_rx = int(rx_idx.max()) + 1 if n else 0
    rx_numbers = 10_000_000 + rng.permutation(n_rx)
    order = np.lexsort((f.date, rx_idx))
    first_of_rx = np.ones(n, bool)
    first_of_rx[1:] = rx_idx[order][1:] != rx_idx[order][:-1]
    firsts = order[first_of_rx]
    written_rx = np.empty(n_rx, np.int64)
    written_rx[rx_idx[firsts]] = (
        f.date[firsts] - fill_number[firsts] * days[firsts] - (rng.random(len(firsts)) * 8).astype(np.int64)
    )
    member = t.member[th]
    sw = w.mem.switch_day[member]
    plan = np.where((sw != NA) & (f.date >= sw), w.mem.plan2[member], w.mem.plan1[member])
    scc = np.where(f.early & (rng.random(n) < 0.15), 3, NA)
    pa_of_therapy = np.full(len(t), -1)
    pa_of_therapy[pas["therapy"].to_numpy()] = np.arange(len(pas))
    pa_idx = pa_of_therapy[th]
    send_pa = (pa_idx >= 0) & (t.pa[th] == PA_APPROVED) & (rng.random(n) < 0.3)
    product, qty, pharmacy = t.product[th], t.qty[th], t.pharmacy[th]
    ingredient, fee, uc, gross = price(rng, w, c, product, qty, f.date, pharmacy, days)
    return Claims(
        member,
        member.copy(),
        plan,
        f.date.copy(),
        pharmacy,
        t.prescriber[th].copy(),
        product,
        product.copy(),
        qty,
        days,
        fill_number,
        t.daw[th],
        rx_numbers[rx_idx],
        written_rx[rx_idx],
        scc,
        np.where(send_pa, pa_idx, -1),
        ingredient,
        fee,
        uc,
        gross,
        kind,
        np.full(n, -1),
    )


def inject_problems(rng, w: World, c: _Catalog, cl: Claims, pas: pd.DataFrame, share: float, tables: dict) -> None:
    """Turn round(share * claims) requests into ones a real adjudicator rejects, spread evenly over the
    kinds. Kinds that need something the data may lack (a member with partial coverage, an eligible product)
    go first; what they cannot take goes to the kinds that fit any claim."""
    n = len(cl.date)
    total = int(round(share * n))
    if total == 0:
        return
    y = w.params.year
    jan1, dec31 = day(y, 1, 1), day(y, 12, 31)
    k = len(PROBLEM_KINDS)
    per_kind = [total // k + (1 if i < total % k else 0) for i in range(k)]
    pool = rng.permutation(np.flatnonzero(cl.kind != KIND_STEP))
    used = np.zeros(n, bool)
    is_partd = np.isin(cl.plan, PARTD_PLANS)
    ws, we = w.mem.win_start[cl.member], w.mem.win_end[cl.member]
    next_rx = int(cl.rx.max()) + 1 if n else 10_000_000
    pa_keys = set(zip(pas["member"].tolist(), pas["drug_group"].tolist(), strict=True))
    drug_group = w.cat.products["drug_group"].to_numpy()

    def take(kind_no: int, idx: np.ndarray) -> np.ndarray:
        used[idx] = True
        cl.problem[idx] = kind_no
        return idx

    def free(count: int, allowed: np.ndarray | None = None) -> np.ndarray:
        ok = ~used[pool] if allowed is None else allowed[pool] & ~used[pool]
        return pool[ok][:count]

    def new_prescription(idx: np.ndarray) -> None:
        """A new Rx (number, first fill, written in the days before the date of service)."""
        nonlocal next_rx
        cl.fill_number[idx], cl.scc[idx] = 0, NA
        cl.rx[idx] = next_rx + np.arange(len(idx))
        next_rx += len(idx)
        cl.written[idx] = cl.date[idx] - (rng.random(len(idx)) * 6).astype(np.int64)

    def new_product(idx: np.ndarray, product: np.ndarray, qty: np.ndarray, days: np.ndarray) -> None:
        cl.product[idx], cl.product_code[idx] = product, product
        cl.qty[idx], cl.days[idx] = qty, days
        cl.daw[idx], cl.pa_number[idx] = 0, -1
        new_prescription(idx)
        cl.ingredient[idx], cl.fee[idx], cl.uc[idx], cl.gross[idx] = price(
            rng, w, c, product, qty, cl.date[idx], cl.pharmacy[idx], days
        )

    def choose_for(idx: np.ndarray, options: dict, eligible_only: bool) -> tuple[np.ndarray, np.ndarray]:
        """A product per claim from its formulary's options (eligible for the member's age, sex and plan when
        asked); ok = found one."""
        out, ok = np.full(len(idx), -1), np.zeros(len(idx), bool)
        for _ in range(20 if eligible_only else 1):
            todo = np.flatnonzero(~ok)
            if not len(todo):
                break
            for formulary, opts in options.items():
                sel = todo[(is_partd[idx[todo]]) == (formulary == PARTD_FORMULARY)]
                if not len(sel) or not len(opts):
                    continue
                prod = opts[rng.integers(0, len(opts), len(sel))]
                good = _eligible(w, c, cl.member[idx[sel]], c.product_row[prod]) if eligible_only else prod >= 0
                out[sel[good]], ok[sel[good]] = prod[good], True
        return out, ok

    # outside coverage: a date after the member's coverage ended (or before it began), on a new Rx
    idx = take(1, free(per_kind[1], (ws > jan1) | (we < dec31)))
    after = we[idx] < dec31
    gap_after = 1 + (rng.random(len(idx)) * np.minimum(30, dec31 - we[idx])).astype(np.int64)
    gap_before = 1 + (rng.random(len(idx)) * np.minimum(30, ws[idx] - jan1)).astype(np.int64)
    cl.date[idx] = np.where(after, we[idx] + gap_after, ws[idx] - gap_before)
    new_prescription(idx)
    shortfall = per_kind[1] - len(idx)

    # excluded drug, missing prior authorization, over the quantity limit: another product on a new Rx
    no_vaccines = ~np.isin(c.kind[c.product_row], ("vaccine",))
    product_options = {
        5: w.excluded,
        6: {f: np.flatnonzero(w.pa_products[f] & no_vaccines) for f in (PARTD_FORMULARY, COMM_FORMULARY)},
        7: {f: w.ql[f][0] for f in (PARTD_FORMULARY, COMM_FORMULARY)},
    }
    for kind_no, options in product_options.items():
        got_idx, got_prod = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for eligible_only in (True, False):
            want = per_kind[kind_no] - sum(len(i) for i in got_idx)
            if want <= 0:
                break
            idx = free(want * 3)
            prod, ok = choose_for(idx, options, eligible_only)
            if kind_no == 6:  # the member must have no PA for that drug group
                has_pa = [
                    (m, drug_group[p]) in pa_keys for m, p in zip(cl.member[idx].tolist(), prod.tolist(), strict=True)
                ]
                ok &= ~np.array(has_pa, dtype=bool).reshape(len(idx))
            idx, prod = idx[ok][:want], prod[ok][:want]
            take(kind_no, idx)
            got_idx.append(idx)
            got_prod.append(prod)
        idx, prod = np.concatenate(got_idx), np.concatenate(got_prod)
        shortfall += per_kind[kind_no] - len(idx)
        row = c.product_row[prod]
        days = c.days[row]
        qty = np.round(c.qty[row] * 1000).astype(np.int64)
        if kind_no == 7:
            formulary = np.where(is_partd[idx], PARTD_FORMULARY, COMM_FORMULARY)
            limit = np.zeros(len(idx))
            for f in (PARTD_FORMULARY, COMM_FORMULARY):
                prods, lq, ld = w.ql[f]
                sel = formulary == f
                pos = np.searchsorted(prods, prod[sel])
                limit[sel] = lq[pos] * days[sel] / ld[pos]
            qty = (np.ceil(limit * rng.uniform(1.5, 3.0, len(idx))) * 1000).astype(np.int64)
        new_product(idx, prod, qty, days)

    # The kinds that fit any claim take the shortfall.
    for i, kind_no in enumerate((0, 2, 3, 4)):
        per_kind[kind_no] += shortfall // 4 + (1 if i < shortfall % 4 else 0)

    # unknown cardholder: an id of our format that no member has
    idx = take(0, free(per_kind[0]))
    known = np.char.lstrip(tables["cardholders"][: len(w.mem.df)].astype(str), "SYN").astype(np.int64)
    unknown = unique_ints(rng, 100_000_000, 1_000_000_000, len(idx), avoid=known)
    cl.cardholder[idx] = len(tables["cardholders"]) + np.arange(len(idx))
    tables["cardholders"] = np.concatenate([tables["cardholders"], np.char.add("SYN", unknown.astype(str))])
    # out of network: a pharmacy that is not in the plan's network
    idx = take(2, free(per_kind[2]))
    status, ptype = w.ph["status"].to_numpy(), w.ph["pharmacy_type"].to_numpy()
    not_partd = np.flatnonzero(status == "comm_only")
    not_comm = np.flatnonzero((status == "pd_only") & (ptype == "retail"))
    cl.pharmacy[idx] = np.where(
        is_partd[idx],
        not_partd[rng.integers(0, len(not_partd), len(idx))],
        not_comm[rng.integers(0, len(not_comm), len(idx))],
    )
    # unknown or malformed NDC: half a 10-digit code (a dropped digit), half 11 digits not in the catalog
    idx = take(3, free(per_kind[3]))
    catalog_codes = tables["products"][: len(w.cat.products)].astype(str)
    malformed = rng.random(len(idx)) < 0.5
    dropped = np.array([code[1:] for code in catalog_codes[cl.product[idx]].tolist()], dtype=object)
    fresh = unique_ints(rng, 10**10, 10**11, len(idx), avoid=catalog_codes.astype(np.int64))
    codes = np.where(malformed, dropped, fresh.astype(str))
    cl.product_code[idx] = len(tables["products"]) + np.arange(len(idx))
    cl.product[idx] = -1
    tables["products"] = np.concatenate([tables["products"], codes.astype(str)])
    # invalid prescriber NPI: a wrong check digit
    idx = take(4, free(per_kind[4]))
    npis = tables["prescribers"][cl.prescriber[idx]].astype(np.int64)
    bad = npis - npis % 10 + (npis % 10 + rng.integers(1, 10, len(idx))) % 10
    cl.prescriber[idx] = len(tables["prescribers"]) + np.arange(len(idx))
    tables["prescribers"] = np.concatenate([tables["prescribers"], bad.astype(str)])


def desynpuf(rng, w: World, t: Therapies, cl: Claims, tables: dict, partd: PartD, people: dict):
    """CMS DE-SynPUF beneficiary summary (Part D members) and prescription drug events (their clean
    claims). The PDE amounts are estimates from the request, not adjudicated amounts: total cost = gross
    amount due; patient pay = the standard benefit applied in date order (deductible, then coinsurance up
    to the out-of-pocket threshold), $0 for vaccines, at most $35 a month for insulin."""
    y = w.params.year
    df, mem = w.mem.df, w.mem
    med = np.flatnonzero(df["is_med"].to_numpy())
    n = len(med)
    bene_hex = np.array([f"{v:016X}" for v in rng.integers(0, 2**63, size=len(df), dtype=np.int64).tolist()])
    bene = fmt.text(bene_hex)
    death = mem.death_day[med]
    alive_months = np.where(death != NA, month_of(np.where(death != NA, death, 0)), 12)
    spans = mem.spans
    jan1, dec31 = day(y, 1, 1), day(y, 12, 31)
    s_from = np.maximum(spans["effective_day"].to_numpy(), jan1)
    s_term = spans["termination_day"].to_numpy()
    s_to = np.where(s_term == NA, dec31, np.minimum(s_term, dec31))
    span_months = np.where(s_to >= s_from, month_of(s_to) - month_of(s_from) + 1, 0)
    months, hmo = np.zeros(len(df), np.int64), np.zeros(len(df), np.int64)
    np.add.at(months, spans["member"].to_numpy(), span_months)
    np.add.at(hmo, spans["member"].to_numpy(), np.where(spans["plan"].to_numpy() == 1, span_months, 0))
    places = people["places"]
    county = np.random.default_rng(CATALOG_SEED + 1).integers(10, 1000, size=len(places))
    place = df["place"].to_numpy()[med]
    cols = [
        bene[med],
        fmt.dates(df["dob"].to_numpy()[med], "compact"),
        fmt.dates(death, "compact"),
        fmt.integer(np.where(df["gender"].to_numpy()[med] == "M", 1, 2)),
        fmt.integer(rng.choice([1, 2, 3, 5], size=n, p=[0.80, 0.11, 0.05, 0.04])),
        fmt.text(np.where(rng.random(n) < np.where(df["disabled"].to_numpy()[med], 0.03, 0.01), "Y", "0")),
        fmt.integer(places["ssa_state_code"].to_numpy()[place]),
        fmt.integer(county[place]),
        fmt.integer(alive_months),
        fmt.integer(np.where(rng.random(n) < 0.04, 0, alive_months)),
        fmt.integer(hmo[med]),
        fmt.integer(months[med]),
    ]
    # Chronic condition flags (1 yes, 2 no): treated with a drug of the condition, or drawn at random.
    base = {
        "SP_ALZHDMTA": 0.03,
        "SP_CHF": 0.08,
        "SP_CHRNKIDN": 0.10,
        "SP_CNCR": 0.04,
        "SP_COPD": 0.06,
        "SP_DEPRESSN": 0.08,
        "SP_DIABETES": 0.10,
        "SP_ISCHMCHT": 0.12,
        "SP_OSTEOPRS": 0.06,
        "SP_RA_OA": 0.08,
        "SP_STRKETIA": 0.03,
    }
    therapy_class = w.cat.rows["therapeutic_class"].to_numpy()[t.row]
    for flag, p in base.items():
        treated = np.zeros(len(df), bool)
        treated[t.member[np.isin(therapy_class, list(CONDITION_CLASSES[flag]))]] = True
        cols.append(fmt.integer(np.where(treated[med] | (rng.random(n) < p), 1, 2)))
    # Yearly Medicare reimbursement, beneficiary responsibility and primary payer amounts: inpatient,
    # outpatient, carrier; whole tens like the CMS samples, mostly zero for inpatient.
    for p_zero, high in (
        (0.85, 30000),
        (0.88, 2000),
        (0.97, 3000),
        (0.2, 3000),
        (0.3, 1000),
        (0.9, 600),
        (0.1, 5000),
        (0.15, 1700),
        (0.92, 1000),
    ):
        amount = (rng.random(n) * high).astype(np.int64) // 10 * 10
        cols.append(fmt.integer(np.where(rng.random(n) < p_zero, 0, amount)))
    beneficiary = cols

    # Prescription drug events: clean claims of Part D plans, in line order.
    sel = np.flatnonzero(np.isin(cl.plan, PARTD_PLANS) & (cl.problem < 0))
    m = cl.member[sel]
    gross = cl.gross[sel]
    vaccine = cl.kind[sel] == KIND_VACCINE
    insulin = cl.kind[sel] == KIND_INSULIN
    cost = np.where(vaccine, 0, gross)
    cum = pd.Series(cost).groupby(m).cumsum().to_numpy()
    ded = round(float(partd.deductible) * 100)
    oop_max = round(float(partd.oop_threshold) * 100)
    rate = float(partd.coinsurance)

    def oop(total):
        return np.minimum(np.minimum(total, ded) + np.round(rate * np.maximum(0, total - ded)), oop_max)

    pay = (oop(cum) - oop(cum - cost)).astype(np.int64)
    cap = round(float(partd.insulin_cap) * 100) * np.ceil(cl.days[sel] / 30).astype(np.int64)
    pay = np.where(insulin, np.minimum(pay, cap), pay)
    pde_id = unique_ints(rng, 10**14, 10**15, len(sel))
    pde = [
        bene[m],
        fmt.integer(pde_id),
        fmt.dates(cl.date[sel], "compact"),
        tables["products_b"][cl.product_code[sel]],
        fmt.decimal(cl.qty[sel], 3),
        fmt.integer(cl.days[sel]),
        fmt.money(pay),
        fmt.money(gross),
    ]
    return beneficiary, pde


# ---------------------------------------------------------------------------------------------------
# the whole dataset
# ---------------------------------------------------------------------------------------------------
@dataclass
class People:
    """What the first phase made and the second needs."""

    params: Params
    partd: PartD
    people: dict
    cat: Catalog
    ph: pd.DataFrame
    part: pd.DataFrame
    pr: pd.DataFrame
    mem: Members
    streams: list


def _stepper(echo):
    import time

    clock = [time.perf_counter()]

    def step(msg: str) -> None:
        now = time.perf_counter()
        echo(f"  {msg} ({now - clock[0]:.1f} s)")
        clock[0] = now

    return step


def generate_people(params: Params, partd: PartD, echo=lambda _msg: None) -> tuple[Dataset, People]:
    """Phase 1: plan configuration, catalog, pharmacies, network, prescribers, members and coverage (the
    database can load these while phase 2 makes the claims)."""
    step = _stepper(echo)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(params.seed).spawn(12)]
    r_ids, r_ph, r_pr, r_mem = streams[:4]
    y, m_total = params.year, params.members
    people = load_people()
    cat = build_catalog(y)
    ds = Dataset(params)
    ds.config = build_config(y, partd, cat)
    step(
        f"plan configuration and catalog: {len(ds.config['plans'])} plans, {len(cat.products):,} drugs, "
        f"{len(cat.prices):,} prices"
    )
    n_ph = int(np.clip(round(m_total / 100), 24, 5000))
    n_pr = int(np.clip(round(m_total / 25), 20, 20000))
    npis = npi_from_base(unique_ints(r_ids, 100_000_000, 300_000_000, n_ph + n_pr))
    ph = build_pharmacies(r_ph, params, people, npis[:n_ph])
    part = build_participations(r_ph, y, ph)
    pr = build_prescribers(r_pr, people, npis[n_ph:])
    mem = build_members(r_mem, params, people)
    ds.feeds = people_feeds(cat, ph, part, pr, mem)
    ds.counts = {
        "plans": len(ds.config["plans"]),
        "drugs": len(cat.products),
        "drug_prices": len(cat.prices),
        "pharmacies": len(ph),
        "network": len(part),
        "prescribers": len(pr),
        "members": len(mem.df),
        "coverage_spans": len(mem.spans),
    }
    step(f"{len(ph):,} pharmacies, {len(pr):,} prescribers, {len(mem.df):,} members, {len(mem.spans):,} coverage spans")
    return ds, People(params, partd, people, cat, ph, part, pr, mem, streams)


def generate_activity(ds: Dataset, pp: People, echo=lambda _msg: None, desynpuf_layouts: bool = True) -> Dataset:
    """Phase 2: therapies, the claim requests (with problem claims), prior authorizations, M3P elections,
    and the DE-SynPUF layouts when asked (they are written to files only)."""
    step = _stepper(echo)
    params, cat, mem, pr = pp.params, pp.cat, pp.mem, pp.pr
    r_world, r_est, r_ther, r_fill, r_claims, r_prob, r_m3p, r_puf = pp.streams[4:]
    n_claims = params.claims
    w = build_world(r_world, params, cat, mem, pp.ph, pr, pp.part)
    c = _Catalog(cat)
    if n_claims > 0:
        probe = make_therapies(r_est, w, c, 1.0)
        natural = max(estimated_fills(probe), 1)
        vaccines = int((probe.kind == KIND_VACCINE).sum())
        scale = n_claims / natural
        if scale > 1 and natural > vaccines:
            scale = (n_claims - vaccines) / (natural - vaccines)
        t = make_therapies(r_ther, w, c, scale)
        f = expand(r_fill, t)
        t, f = exact_count(r_claims, w, c, t, f, n_claims)
    else:
        t = Therapies(*(np.zeros(0, np.int64) for _ in Therapies.__dataclass_fields__))
        f = Fills(*(np.zeros(0, np.int64) for _ in Fills.__dataclass_fields__))
    first_fill, last_fill = t.start.copy(), t.start.copy()
    if len(f.date):
        s = pd.Series(f.date).groupby(f.therapy)
        first_fill[s.min().index.to_numpy()] = s.min().to_numpy()
        last_fill[s.max().index.to_numpy()] = s.max().to_numpy()
    pas = build_prior_auths(r_claims, w, t, first_fill, last_fill)
    cl = assemble_claims(r_claims, w, c, t, f, pas)
    tables = {
        "cardholders": mem.df["cardholder_id"].to_numpy().astype(str),
        "products": cat.products["ndc11"].to_numpy().astype(str),
        "prescribers": pr["npi"].to_numpy().astype(str),
    }
    inject_problems(r_prob, w, c, cl, pas, params.problem_share, tables)
    order = np.lexsort((cl.rx, cl.product_code, cl.member, cl.date))
    cl = cl.take(order)
    step(f"{len(cl.date):,} claim requests from {len(t):,} therapies, {int((cl.problem >= 0).sum()):,} problem claims")

    elections = build_elections(r_m3p, w, t)
    tables["products_b"] = fmt.text(tables["products"])
    if desynpuf_layouts:
        ds.desynpuf_beneficiary, ds.desynpuf_pde = desynpuf(r_puf, w, t, cl, tables, pp.partd, pp.people)
    ds.feeds.update(activity_feeds(mem, pr, pas, elections, params.year))
    ds.claim_chunk = lambda lo, hi: claim_columns(w, cl.take(slice(lo, hi)), pas, tables)
    ds.problem_kind = cl.problem
    ds.counts.update({"prior_authorizations": len(pas), "m3p_elections": len(elections), "claims": len(cl.date)})
    if desynpuf_layouts:
        ds.counts["desynpuf_beneficiary"] = len(ds.desynpuf_beneficiary[0])
        ds.counts["desynpuf_pde"] = len(ds.desynpuf_pde[0])
    step("feed layouts" + (" and DE-SynPUF layouts" if desynpuf_layouts else ""))
    return ds


def generate(params: Params, partd: PartD, echo=lambda _msg: None, desynpuf_layouts: bool = True) -> Dataset:
    """Everything `pbm seed synthetic` writes, for one seed (the DE-SynPUF layouts only when asked: they
    are written to files only). echo gets a line per step."""
    ds, pp = generate_people(params, partd, echo)
    return generate_activity(ds, pp, echo, desynpuf_layouts)


def exact_count(rng, w: World, c: _Catalog, t: Therapies, f: Fills, n_claims: int) -> tuple[Therapies, Fills]:
    """Exactly n_claims fills: drop surplus refills at random (missed refills), or add acute courses."""
    have = len(f.date)
    if have > n_claims:
        removable = np.flatnonzero(t.kind[f.therapy] != KIND_STEP)
        if len(removable) < have - n_claims:
            removable = np.arange(have)
        drop = rng.choice(removable, size=have - n_claims, replace=False)
        keep = np.ones(have, bool)
        keep[drop] = False
        f = Fills(*(getattr(f, name)[keep] for name in Fills.__dataclass_fields__))
    extra_parts = []
    missing = n_claims - have
    df = w.mem.df
    weight = (w.mem.win_end - w.mem.win_start + 1) * np.where(df["is_med"].to_numpy(), 1.5, 1.0)
    while missing > 0:
        members = np.sort(rng.choice(len(df), size=missing, p=weight / weight.sum()))
        extra = make_acute(rng, w, c, members)
        extra_parts.append(extra)
        missing -= len(extra)
    if extra_parts:
        extra = Therapies.concat(extra_parts)
        base = len(t)
        t = Therapies.concat([t, extra])
        n = len(extra)
        f = Fills(
            np.concatenate([f.therapy, base + np.arange(n)]),
            np.concatenate([f.k, np.zeros(n, np.int64)]),
            np.concatenate([f.date, extra.start]),
            np.concatenate([f.early, np.zeros(n, bool)]),
        )
    return t, f


def people_feeds(cat, ph, part, pr, mem) -> dict[str, pd.DataFrame]:
    """The master-data feeds as frames of text in feed column order."""
    p = cat.products
    drugs = pd.DataFrame(
        {
            "ndc11": p["ndc11"],
            "ndc_package_code": p["ndc_package_code"],
            "drug_name": p["drug_name"],
            "generic_name": p["generic_name"],
            "strength": p["strength"],
            "dosage_form": p["dosage_form"],
            "route": p["route"],
            "multi_source_code": p["mony"],
            "therapeutic_class": p["therapeutic_class"],
            "drug_group": p["drug_group"],
            "dea_schedule": p["dea_schedule"].astype(str),
            "is_insulin": np.where(p["kind"] == "insulin", "t", "f"),
            "is_vaccine": np.where(p["kind"] == "vaccine", "t", "f"),
            "is_specialty": np.where(p["kind"] == "specialty", "t", "f"),
            "unit_of_measure": p["uom"],
            "package_size": [f"{v:g}" for v in p["package_size"].astype(float)],
            "market_end_date": "",
        }
    )
    pr_ = cat.prices
    prices = pd.DataFrame(
        {
            "ndc11": pr_["ndc11"],
            "price_type": pr_["price_type"],
            "mac_list_code": pr_["mac_list_code"],
            "unit_price": [f"{v:.5f}" for v in pr_["unit_price"]],
            "effective_date": fmt.dates(pr_["effective_day"].to_numpy()).astype(str),
            "end_date": fmt.dates(pr_["end_day"].to_numpy()).astype(str),
        }
    )
    pharmacies = ph[["npi", "ncpdp_id", "name", "address_line1", "city", "state", "zip5", "pharmacy_type"]].copy()
    network = pd.DataFrame(
        {
            "network_code": part["network_code"],
            "pharmacy_npi": ph["npi"].to_numpy()[part["pharmacy"].to_numpy()],
            "contract_code": part["contract_code"],
            "effective_date": fmt.dates(part["effective_day"].to_numpy()).astype(str),
            "termination_date": fmt.dates(part["termination_day"].to_numpy()).astype(str),
        }
    )
    prescribers = pr[["npi", "dea_number", "first_name", "last_name", "specialty", "state", "deactivated_on"]].copy()
    m = mem.df
    sp = mem.spans
    mi = sp["member"].to_numpy()
    eligibility = pd.DataFrame(
        {
            "cardholder_id": m["cardholder_id"].to_numpy()[mi],
            "person_code": m["person_code"].to_numpy()[mi],
            "relationship_code": m["relationship_code"].to_numpy()[mi].astype(str),
            "first_name": m["first_name"].to_numpy()[mi],
            "last_name": m["last_name"].to_numpy()[mi],
            "date_of_birth": fmt.dates(m["dob"].to_numpy()[mi]).astype(str),
            "gender": m["gender"].to_numpy()[mi],
            "address_line1": m["address_line1"].to_numpy()[mi],
            "city": m["city"].to_numpy()[mi],
            "state": m["state"].to_numpy()[mi],
            "zip5": m["zip5"].to_numpy()[mi],
            "mbi": m["mbi"].to_numpy()[mi],
            "plan_code": np.array([pl[0] for pl in PLANS])[sp["plan"].to_numpy()],
            "coverage_effective_date": fmt.dates(sp["effective_day"].to_numpy()).astype(str),
            "coverage_termination_date": fmt.dates(sp["termination_day"].to_numpy()).astype(str),
            "termination_reason": sp["reason"].to_numpy(),
        }
    )
    return {
        "drugs": drugs,
        "drug_prices": prices,
        "pharmacies": pharmacies,
        "network": network,
        "prescribers": prescribers,
        "eligibility": eligibility,
    }


def activity_feeds(mem, pr, pas, elections, year) -> dict[str, pd.DataFrame]:
    """The prior authorization feed, and the M3P elections and PA due times the database load needs."""
    m = mem.df
    pa_m = pas["member"].to_numpy()
    prior_auths = pd.DataFrame(
        {
            "pa_number": pas["pa_number"],
            "cardholder_id": m["cardholder_id"].to_numpy()[pa_m],
            "person_code": m["person_code"].to_numpy()[pa_m],
            "drug_group": pas["drug_group"],
            "prescriber_npi": pr["npi"].to_numpy()[pas["prescriber"].to_numpy()],
            "urgency": pas["urgency"],
            "status": pas["status"],
            "received_at": fmt.timestamps(pas["received_s"].to_numpy()).astype(str),
            "decided_at": fmt.timestamps(pas["decided_s"].to_numpy()).astype(str),
            "decision_reason": pas["decision_reason"],
            "effective_date": fmt.dates(pas["effective_day"].to_numpy()).astype(str),
            "expiration_date": fmt.dates(pas["expiration_day"].to_numpy()).astype(str),
            "approved_quantity": fmt.decimal(pas["approved_qty"].to_numpy(), 3).astype(str),
        }
    )
    el_m = elections["member"].to_numpy().astype(np.int64)
    m3p = pd.DataFrame(
        {
            "cardholder_id": m["cardholder_id"].to_numpy()[el_m],
            "person_code": m["person_code"].to_numpy()[el_m],
            "plan_year": str(year),
            "source": elections["source"].to_numpy(),
            "received_at": fmt.timestamps(elections["received_s"].to_numpy()).astype(str),
            "processed_at": fmt.timestamps(elections["processed_s"].to_numpy()).astype(str),
            "opt_out_received_at": fmt.timestamps(elections["opt_out_s"].to_numpy()).astype(str),
        }
    )
    # Internal columns the database load needs beside the feed columns.
    pa_timing = pd.DataFrame(
        {
            "pa_number": pas["pa_number"],
            "due_at": fmt.timestamps(pas["due_s"].to_numpy()).astype(str),
        }
    )
    return {"prior_authorizations": prior_auths, "m3p_elections": m3p, "pa_timing": pa_timing}


CLAIM_COLUMNS = FEEDS["claims"]  # the claim request fields, in the feed layout order


def claim_columns(w: World, cl: Claims, pas: pd.DataFrame, tables: dict) -> dict[str, np.ndarray]:
    m = w.mem.df
    plans = np.array(PLANS, dtype=object)
    person = fmt.text(m["person_code"].to_numpy())
    pa_numbers = np.concatenate([fmt.text(pas["pa_number"].to_numpy()), np.array([b""], dtype="S1")])
    cols = {
        "bin": fmt.text([BIN] * len(plans))[cl.plan],
        "pcn": fmt.text(plans[:, 3])[cl.plan],
        "group_id": fmt.text(plans[:, 4])[cl.plan],
        "cardholder_id": fmt.text(tables["cardholders"])[cl.cardholder],
        "person_code": person[cl.member],
        "patient_date_of_birth": fmt.dates(m["dob"].to_numpy())[cl.member],
        "patient_gender_code": np.where(m["gender"].to_numpy()[cl.member] == "M", b"1", b"2").astype("S1"),
        "date_of_service": fmt.dates(cl.date),
        "service_provider_id": fmt.text(w.ph["npi"].to_numpy())[cl.pharmacy],
        "prescriber_id": fmt.text(tables["prescribers"])[cl.prescriber],
        "product_id": fmt.text(tables["products"])[cl.product_code],
        "quantity_dispensed": fmt.decimal(cl.qty, 3),
        "days_supply": fmt.integer(cl.days),
        "fill_number": fmt.integer(cl.fill_number),
        "daw_code": fmt.integer(cl.daw),
        "rx_number": fmt.integer(cl.rx),
        "date_prescription_written": fmt.dates(cl.written),
        "submission_clarification_code": fmt.integer(cl.scc),
        "prior_authorization_number_submitted": pa_numbers[cl.pa_number],
        "ingredient_cost_submitted": fmt.money(cl.ingredient),
        "dispensing_fee_submitted": fmt.money(cl.fee),
        "usual_and_customary_charge": fmt.money(cl.uc),
        "gross_amount_due": fmt.money(cl.gross),
    }
    return cols
