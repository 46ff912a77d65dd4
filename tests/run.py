"""Every test and quality gate of pbmdb in one command (`make test`).

1. ruff (lint and format) over all Python, sqlfluff over all SQL;
2. a test server (PBM_TEST_DSN, else testcontainers, else a throwaway local cluster) and a fresh database
   migrated by the code of `pbm db migrate`;
3. plpgsql_check over every PL/pgSQL function of the project's schemas (any error fails);
4. pg_prove over tests/pgtap (fails on a failure or when no test ran);
5. pytest over tests/python against the same server (fails on a failure or when no test ran).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from psycopg import conninfo as ci  # noqa: E402

from pbmdb.db import connect  # noqa: E402
from pbmdb.testing import create_migrated_database, drop_database, test_server  # noqa: E402

PROJECT_SCHEMAS = (
    "ref",
    "plan",
    "member",
    "drug",
    "network",
    "claims",
    "ppp",
    "etl",
    "audit",
    "reporting",
    "api",
    "security",
    "ops",
)
BIN = Path(sys.executable).parent

PLPGSQL_CHECK = """
SELECT p.oid::regprocedure::text AS function, r.lineno, r.sqlstate, r.message, r.detail
FROM pg_catalog.pg_proc AS p
INNER JOIN pg_catalog.pg_namespace AS n ON p.pronamespace = n.oid
INNER JOIN pg_catalog.pg_language AS l ON p.prolang = l.oid
LEFT JOIN LATERAL (
    SELECT t.tgrelid, t.tgoldtable, t.tgnewtable FROM pg_catalog.pg_trigger AS t
    WHERE t.tgfoid = p.oid ORDER BY t.tgoldtable NULLS LAST, t.tgnewtable NULLS LAST LIMIT 1
) AS trg ON true
CROSS JOIN LATERAL public.plpgsql_check_function_tb(
    p.oid, coalesce(trg.tgrelid, 0), oldtable => trg.tgoldtable, newtable => trg.tgnewtable
) AS r
WHERE l.lanname = 'plpgsql'
    AND n.nspname = ANY(%s)
    AND (p.prorettype <> 'trigger'::regtype OR trg.tgrelid IS NOT NULL)
    AND r.level = 'error'
ORDER BY 1, 2
"""


def banner(text: str) -> None:
    print(f"\n==== {text} " + "=" * max(0, 90 - len(text)), flush=True)


def run(cmd: list[str], env: dict | None = None) -> tuple[int, str]:
    """Run cmd streaming its output; return (exit code, output)."""
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    lines = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    return proc.wait(), "".join(lines)


def lint() -> list[str]:
    failures = []
    banner("ruff")
    rc1, _ = run([str(BIN / "ruff"), "check", "."])
    rc2, _ = run([str(BIN / "ruff"), "format", "--check", "."])
    if rc1 or rc2:
        failures.append("ruff")
    banner("sqlfluff")
    sql_files = sorted(
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*.sql")
        if not any(part.startswith(".") for part in p.relative_to(ROOT).parts)
    )
    rc, _ = run([str(BIN / "sqlfluff"), "lint", "--processes", "2", "--disable-progress-bar", *sql_files])
    if rc:
        failures.append("sqlfluff")
    return failures


def plpgsql_check(dsn: str) -> list[str]:
    banner("plpgsql_check")
    with connect(dsn, autocommit=True, phi_key=False) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS plpgsql_check WITH SCHEMA public")
        rows = conn.execute(PLPGSQL_CHECK, [list(PROJECT_SCHEMAS)]).fetchall()
        checked = conn.execute(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "JOIN pg_language l ON l.oid = p.prolang WHERE l.lanname = 'plpgsql' AND n.nspname = ANY(%s)",
            [list(PROJECT_SCHEMAS)],
        ).fetchone()[0]
    for fn, lineno, sqlstate, message, detail in rows:
        print(f"{fn} line {lineno}: {sqlstate} {message}" + (f" ({detail})" if detail else ""))
    print(f"{checked} PL/pgSQL functions checked, {len(rows)} error(s)")
    return ["plpgsql_check"] if rows else []


def pgtap(dsn: str) -> list[str]:
    banner("pgTAP (pg_prove)")
    with connect(dsn, autocommit=True, phi_key=False) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA public")
        # Fixture functions (schema tap) the test files call inside their own transactions.
        for fixture in sorted((ROOT / "tests" / "fixtures").glob("*.sql")):
            conn.execute(fixture.read_text())
    params = ci.conninfo_to_dict(dsn)
    env = dict(os.environ)
    for key, var in (("host", "PGHOST"), ("port", "PGPORT"), ("user", "PGUSER"), ("password", "PGPASSWORD")):
        if params.get(key):
            env[var] = str(params[key])
    rc, out = run(
        ["pg_prove", "--ext", ".sql", "-r", "-j", "2", "--failures", "-d", params["dbname"], "tests/pgtap"],
        env=env,
    )
    tests = re.search(r"Files=(\d+), Tests=(\d+)", out)
    if rc or "Result: PASS" not in out:
        return ["pgTAP"]
    if not tests or int(tests.group(2)) == 0:
        print("pg_prove ran no test")
        return ["pgTAP (no tests)"]
    return []


def pytest(admin_dsn: str) -> list[str]:
    banner("pytest")
    env = dict(os.environ, PBM_TEST_DSN=admin_dsn)
    rc, _ = run([sys.executable, "-m", "pytest", *sys.argv[1:]], env=env)
    if rc == 5:
        print("pytest ran no test")
        return ["pytest (no tests)"]
    return ["pytest"] if rc else []


def main() -> int:
    started = time.time()
    failures = lint()
    with test_server() as admin_dsn:
        banner("migrating a fresh test database")
        name = f"pbm_pgtap_{os.getpid()}"
        dsn = create_migrated_database(admin_dsn, name, echo=print)
        try:
            failures += plpgsql_check(dsn)
            failures += pgtap(dsn)
        finally:
            drop_database(admin_dsn, name)
        failures += pytest(admin_dsn)
    banner("summary")
    took = time.time() - started
    if failures:
        print(f"FAILED: {', '.join(failures)} ({took:.0f} s)")
        return 1
    print(f"all checks passed: ruff, sqlfluff, plpgsql_check, pgTAP, pytest ({took:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
