"""The foundation: `pbm db migrate` (yoyo + repeatables), errors, help texts and the embedded cluster."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
from conftest import PBM, ROOT, run_pbm

SQL_FOLDERS = ("migrations", "procedures", "security", "reports")


@pytest.fixture
def sql_tree(tmp_path):
    """A copy of the project's SQL folders, free to edit (PBM_SQL_ROOT points migrate at it)."""
    for folder in SQL_FOLDERS:
        if (ROOT / folder).exists():
            shutil.copytree(ROOT / folder, tmp_path / folder)
        else:
            (tmp_path / folder).mkdir()
    extra = tmp_path / "procedures" / "zz_test"
    extra.mkdir(parents=True)
    (extra / "01_first.sql").write_text(
        "CREATE OR REPLACE FUNCTION api.zz_first() RETURNS int LANGUAGE sql IMMUTABLE RETURN 1;\n"
    )
    (extra / "02_second.sql").write_text(
        "CREATE OR REPLACE FUNCTION api.zz_second() RETURNS int LANGUAGE sql IMMUTABLE RETURN 2;\n"
    )
    return tmp_path


def scalar(dsn, query, params=None):
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchone()[0]


def test_migrate_twice_changes_nothing_the_second_time(empty_db, sql_tree):
    env = {"PBM_SQL_ROOT": str(sql_tree)}
    first = run_pbm("db", "migrate", dsn=empty_db, env=env)
    assert first.returncode == 0, first.stderr
    assert "applied migration 0001_schemas" in first.stdout
    assert "applied procedures/zz_test/01_first.sql" in first.stdout
    second = run_pbm("db", "migrate", dsn=empty_db, env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "database is up to date: no migration pending, no repeatable file changed"
    recorded = scalar(empty_db, "SELECT count(*) FROM pbm_meta.repeatables WHERE file_path LIKE 'procedures/zz_test/%'")
    assert recorded == 2


def test_editing_one_function_file_reapplies_only_that_file(empty_db, sql_tree):
    env = {"PBM_SQL_ROOT": str(sql_tree)}
    assert run_pbm("db", "migrate", dsn=empty_db, env=env).returncode == 0
    first = sql_tree / "procedures" / "zz_test" / "01_first.sql"
    first.write_text(first.read_text().replace("RETURN 1", "RETURN 11"))
    status = run_pbm("db", "status", dsn=empty_db, env=env)
    assert "changed  procedures/zz_test/01_first.sql" in status.stdout
    assert "02_second" not in status.stdout
    again = run_pbm("db", "migrate", dsn=empty_db, env=env)
    applied = [line.strip() for line in again.stdout.splitlines() if line.strip().startswith("applied ")]
    assert applied[0] == "applied procedures/zz_test/01_first.sql"
    assert len(applied) == 2 and applied[1].startswith("applied 0 migration(s) and 1 repeatable")
    assert scalar(empty_db, "SELECT api.zz_first()") == 11


def test_force_reapplies_every_repeatable(empty_db, sql_tree):
    env = {"PBM_SQL_ROOT": str(sql_tree)}
    assert run_pbm("db", "migrate", dsn=empty_db, env=env).returncode == 0
    forced = run_pbm("db", "migrate", "--force", dsn=empty_db, env=env)
    assert "applied procedures/zz_test/01_first.sql" in forced.stdout
    assert "applied procedures/zz_test/02_second.sql" in forced.stdout


def test_broken_migration_names_file_and_line_and_rolls_back(empty_db, sql_tree):
    env = {"PBM_SQL_ROOT": str(sql_tree)}
    assert run_pbm("db", "migrate", dsn=empty_db, env=env).returncode == 0
    (sql_tree / "migrations" / "9999_broken.sql").write_text(
        "CREATE TABLE ref.zz_half_applied (id int);\n\nINSERT INTO ref.zz_half_applied\n    VALUES ('not a number');\n"
    )
    result = run_pbm("db", "migrate", dsn=empty_db, env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.count("\n") == 0
    assert "migrations/9999_broken.sql" in message
    assert "invalid input syntax for type integer" in message
    assert "(line 4)" in message
    assert scalar(empty_db, "SELECT to_regclass('ref.zz_half_applied') IS NULL")
    assert scalar(empty_db, "SELECT count(*) FROM pbm_meta._yoyo_migration WHERE migration_id = '9999_broken'") == 0


def test_broken_repeatable_names_file_and_line_and_rolls_back(empty_db, sql_tree):
    env = {"PBM_SQL_ROOT": str(sql_tree)}
    assert run_pbm("db", "migrate", dsn=empty_db, env=env).returncode == 0
    (sql_tree / "procedures" / "zz_test" / "03_broken.sql").write_text(
        "CREATE FUNCTION api.zz_third() RETURNS int LANGUAGE sql RETURN 3;\n"
        "SELECT 1;\n"
        "SELECT * FROM ref.no_such_table;\n"
    )
    result = run_pbm("db", "migrate", dsn=empty_db, env=env)
    assert result.returncode == 1
    message = result.stderr.strip()
    assert "procedures/zz_test/03_broken.sql failed and was rolled back" in message
    assert 'relation "ref.no_such_table" does not exist (line 3)' in message
    assert scalar(empty_db, "SELECT to_regprocedure('api.zz_third()') IS NULL")


def collect_commands():
    """Every command path of the CLI, from the Click tree."""
    import cli

    paths = []

    def walk(cmd, prefix):
        paths.append(prefix)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*prefix, name])

    walk(cli.pbm, [])
    return paths


@pytest.mark.parametrize("path", collect_commands(), ids=lambda p: " ".join(p) or "pbm")
def test_every_command_has_help_with_an_example(path):
    result = run_pbm(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert "Example:" in result.stdout


def test_bad_dsn_is_one_line_and_exit_code_2():
    result = run_pbm("db", "status", dsn="host=/nonexistent/socket port=1 dbname=x connect_timeout=2")
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot connect to PostgreSQL")
    assert result.stderr.strip().count("\n") == 0


def test_no_binaries_and_no_dsn_says_what_to_install(tmp_path):
    result = run_pbm("db", "up", env={"PBM_HOME": str(tmp_path / "h"), "PBM_PG_BINDIR": str(tmp_path)})
    assert result.returncode == 2
    line = result.stderr.strip()
    assert line.count("\n") == 0
    assert "no PostgreSQL 15+ server binaries found" in line
    assert "apt-get install postgresql-15" in line and "PBM_DSN" in line


def _embedded_cycle(env, as_user=None):
    """up -> migrate -> status -> psql -> down, with the CLI run by as_user (None: this process's user)."""

    def pbm(*args):
        if as_user is None:
            return run_pbm(*args, env=env)
        prefix = _pbm_as(as_user)
        cmd = ["runuser", "-u", as_user, "--", "env", *[f"{k}={v}" for k, v in env.items()], *prefix]
        return subprocess.run([*cmd, *args], capture_output=True, text=True, cwd="/tmp")

    up = pbm("db", "up")
    assert up.returncode == 0, up.stderr
    assert "embedded PostgreSQL started" in up.stdout
    try:
        assert pbm("db", "up").stdout.startswith("embedded PostgreSQL already running")
        migrate = pbm("db", "migrate")
        assert migrate.returncode == 0, migrate.stderr
        status = pbm("db", "status")
        assert "server: embedded, running" in status.stdout
        assert "0 pending" in status.stdout
        psql = pbm("db", "psql", "-Atc", "SELECT current_setting('server_version_num')::int / 10000")
        assert psql.stdout.strip() == "15", psql.stderr
    finally:
        down = pbm("db", "down")
    assert down.stdout.strip() == "embedded PostgreSQL stopped"


def test_embedded_cluster_lifecycle(tmp_path):
    home = Path(tempfile.mkdtemp(prefix="pbmh-", dir="/tmp"))
    try:
        _embedded_cycle({"PBM_HOME": str(home)})
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _pbm_as(user: str) -> list[str] | None:
    """How `user` can start pbm: the venv's script, or (when the interpreter sits in root's 0700 home)
    the system Python of the same version with the venv's packages on PYTHONPATH."""
    if os.geteuid() != 0:
        return None
    candidates = [[PBM]]
    system = shutil.which(f"python{sys.version_info.major}.{sys.version_info.minor}", path="/usr/bin:/usr/local/bin")
    if system:
        site = next(p for p in sys.path if p.endswith("site-packages"))
        candidates.append(["env", f"PYTHONPATH={ROOT}:{site}", system, "-c", "import cli; cli.main()"])
    for prefix in candidates:
        probe = subprocess.run(["runuser", "-u", user, "--", *prefix, "--version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return prefix
    return None


@pytest.mark.skipif(not _pbm_as("postgres"), reason="needs root and a pbm that other users can run")
def test_embedded_cluster_as_an_ordinary_user():
    user = "postgres"
    pw = pwd.getpwnam(user)
    home = Path(tempfile.mkdtemp(prefix="pbmu-", dir="/tmp"))
    os.chown(home, pw.pw_uid, pw.pw_gid)
    try:
        _embedded_cycle({"PBM_HOME": str(home / "pbm")}, as_user=user)
    finally:
        shutil.rmtree(home, ignore_errors=True)
