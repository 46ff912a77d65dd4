"""The small CMS DE-SynPUF fixture shipped in etl/fixtures/desynpuf/: the real sample rows quoted in the
shared reference (pbm-domain.md section 6.2, from OHDSI/ETL-CMS test data copied from DE-SynPUF sample 0)
plus generated rows in the same layouts, deterministic (fixed seed) so the files can be regenerated and
compared.

    python -m etl.desynpuf etl/fixtures/desynpuf     # rewrite the fixture files

Files are named as CMS names them; to load them with `pbm etl nightly` prefix them with the feed name
(desynpuf_beneficiary_..., desynpuf_pde_...). `pbm etl load desynpuf_beneficiary FILE` takes any name
with the year in it.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from etl.layouts import FEEDS

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures" / "desynpuf"
BENEFICIARY_FILE = "DE1_0_2008_Beneficiary_Summary_File_Sample_0.csv"
PDE_FILE = "DE1_0_2008_to_2010_Prescription_Drug_Events_Sample_0.csv"

# Real DE-SynPUF rows (sample 0), as quoted in the shared reference.
REAL_BENEFICIARIES = [
    "0002056B40CEE448,19201001,,2,1,0,15,680,12,12,0,12,1,2,2,2,2,1,2,1,1,1,2,0,0,0,3620,1750,600,2720,610,0",
    "0004D03F1BD5E607,19430701,,1,3,0,5,200,12,12,12,12,2,2,2,2,2,1,1,2,2,2,2,0,0,0,1650,470,0,280,190,0",
]
REAL_PDE = [
    "0002056B40CEE448,782144413002221,20100330,61392018345,30,30,10,270",
    "0004D03F1BD5E607,782974413241711,20080407,53746022010,30,90,20,10",
]
GENERATED_BENEFICIARIES = 48
GENERATED_PDE = 198
SEED = 20081231


def _header(feed: str) -> str:
    """CMS quotes every header name."""
    return ",".join(f'"{c}"' for c in FEEDS[feed])


def beneficiary_rows(rng: random.Random) -> list[str]:
    rows = list(REAL_BENEFICIARIES)
    for _ in range(GENERATED_BENEFICIARIES):
        ident = "".join(rng.choice("0123456789ABCDEF") for _ in range(16))
        birth = f"{rng.randint(1915, 1943)}{rng.randint(1, 12):02d}01"
        death = f"2008{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}" if rng.random() < 0.04 else ""
        months = rng.choice([12] * 8 + [0, 3, 6, 9])
        flags = [str(rng.choice([1, 2, 2])) for _ in range(11)]
        money = [str(rng.randrange(0, 400) * 10) for _ in range(9)]
        rows.append(
            ",".join(
                [
                    ident,
                    birth,
                    death,
                    str(rng.choice([1, 2])),
                    str(rng.choice([1, 1, 1, 2, 3, 5])),
                    rng.choice(["0", "0", "0", "Y"]),
                    str(rng.randint(1, 53)),
                    str(rng.randrange(0, 999, 10)),
                    "12",
                    "12",
                    str(rng.choice([0, 12])),
                    str(months),
                    *flags,
                    *money,
                ]
            )
        )
    return rows


def pde_rows(rng: random.Random, beneficiaries: list[str]) -> list[str]:
    ids = [line.split(",", 1)[0] for line in beneficiaries]
    rows = list(REAL_PDE)
    for n in range(GENERATED_PDE):
        days = rng.choice([30, 30, 30, 60, 90])
        rows.append(
            ",".join(
                [
                    rng.choice(ids),
                    str(782000000000000 + 1000 * n + rng.randint(0, 999)),
                    f"{rng.choice([2008, 2009, 2010])}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
                    f"{rng.randrange(10**10, 10**11):011d}",
                    str(rng.choice([10, 30, 60, 90, 120])),
                    str(days),
                    str(rng.randrange(0, 10) * 10),
                    str(rng.randrange(1, 60) * 10),
                ]
            )
        )
    return rows


def fixture_texts() -> dict[str, str]:
    """The fixture files' contents, by file name."""
    rng = random.Random(SEED)
    beneficiaries = beneficiary_rows(rng)
    pdes = pde_rows(rng, beneficiaries)
    return {
        BENEFICIARY_FILE: "\n".join([_header("desynpuf_beneficiary"), *beneficiaries]) + "\n",
        PDE_FILE: "\n".join([_header("desynpuf_pde"), *pdes]) + "\n",
    }


def write_fixture(folder: Path = FIXTURE_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in fixture_texts().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_fixture(Path(sys.argv[1]) if len(sys.argv) > 1 else FIXTURE_DIR):
        print(path)
