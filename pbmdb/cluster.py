"""The embedded local PostgreSQL cluster: initdb into .pbm/, start and stop it with pg_ctl.

PostgreSQL refuses to run as root, so when the CLI runs as root every server binary runs as the
`postgres` OS user and the data directory belongs to that user.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from pbmdb import PbmError

MIN_MAJOR = 15
SUPERUSER = "postgres"
SERVER_OS_USER = "postgres"
# A unix socket path is limited to 107 bytes, including "/.s.PGSQL.<port>".
MAX_SOCKET_DIR = 80

NO_BINARIES = (
    "no PostgreSQL {min}+ server binaries found (looked at PBM_PG_BINDIR or pg_config --bindir, "
    "/usr/lib/postgresql/*/bin and PATH): install them (Debian/Ubuntu: apt-get install postgresql-15) "
    "or point pbm at a server with --dsn or PBM_DSN"
)


def _major(bindir: Path) -> int | None:
    postgres = bindir / "postgres"
    if not postgres.exists():
        return None
    try:
        out = subprocess.run([str(postgres), "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    # "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    try:
        return int(out.split(")")[1].strip().split(".")[0])
    except (IndexError, ValueError):
        return None


def find_bindir() -> Path | None:
    """The directory holding initdb/pg_ctl/postgres of PostgreSQL 15 or newer (15 preferred).

    PBM_PG_BINDIR, when set, is the only place looked at.
    """
    if os.environ.get("PBM_PG_BINDIR"):
        bindir = Path(os.environ["PBM_PG_BINDIR"])
        major = _major(bindir)
        return bindir if major is not None and major >= MIN_MAJOR and (bindir / "initdb").exists() else None
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.CalledProcessError):
            pass
    candidates += sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: (p.parent.name != "15", p.parent.name),
    )
    on_path = shutil.which("postgres")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        major = _major(bindir)
        if major is not None and major >= MIN_MAJOR and (bindir / "initdb").exists():
            return bindir
    return None


def require_bindir() -> Path:
    bindir = find_bindir()
    if bindir is None:
        raise PbmError(NO_BINARIES.format(min=MIN_MAJOR), exit_code=2)
    return bindir


def _free_port(start: int = 54320, stop: int = 56000) -> int:
    # Start at a random port so concurrent test runs rarely race for the same one.
    first = random.randrange(start, stop)
    for port in [*range(first, stop), *range(start, first)]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        if not any(Path(d, f".s.PGSQL.{port}").exists() for d in ("/tmp", "/var/run/postgresql")):
            return port
    raise PbmError(f"no free TCP port between {start} and {stop} for the local cluster")


def _as_root() -> bool:
    return os.geteuid() == 0


def _server_user():
    try:
        return pwd.getpwnam(SERVER_OS_USER)
    except KeyError:
        raise PbmError(
            "running as root, but there is no 'postgres' OS user to run the server as "
            "(create it: useradd --system postgres) or run pbm as an ordinary user",
            exit_code=2,
        ) from None


def _server_can_use(path: Path) -> bool:
    """True when the server's OS user can traverse every parent of path (root's home usually is 0700)."""
    if not _as_root():
        return True
    user = _server_user()
    probe = path
    while not probe.exists():
        probe = probe.parent
    result = subprocess.run(
        ["test", "-x", str(probe)], user=user.pw_uid, group=user.pw_gid, extra_groups=[], check=False
    )
    return result.returncode == 0


@dataclass
class ClusterState:
    datadir: str
    socket_dir: str
    port: int
    bindir: str


class LocalCluster:
    """A private PostgreSQL cluster whose bookkeeping lives in `base` (cluster.json)."""

    def __init__(self, base: Path, *, tuned_for_tests: bool = False):
        self.base = Path(base)
        self.tuned_for_tests = tuned_for_tests
        self.state_file = self.base / "cluster.json"

    # ---- state -------------------------------------------------------------------------------------
    def state(self) -> ClusterState | None:
        if not self.state_file.exists():
            return None
        return ClusterState(**json.loads(self.state_file.read_text()))

    def _plan_layout(self) -> ClusterState:
        bindir = require_bindir()
        home = self.base
        socket_dir = home / "run"
        if not _server_can_use(home) or len(str(socket_dir)) > MAX_SOCKET_DIR:
            # The server user cannot reach the project folder (or the socket path is too long):
            # keep the cluster in /tmp and remember where in cluster.json.
            tag = hashlib.sha256(str(self.base.resolve()).encode()).hexdigest()[:10]
            home = Path(tempfile.gettempdir()) / f"pbm-{tag}"
            socket_dir = home / "run"
        return ClusterState(
            datadir=str(home / "pgdata"), socket_dir=str(socket_dir), port=_free_port(), bindir=str(bindir)
        )

    # ---- running binaries ----------------------------------------------------------------------------
    def _run(self, args: list[str], *, check: bool = True, cwd: str | None = None):
        kwargs = {}
        if _as_root():
            user = _server_user()
            kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C.UTF-8"
        result = subprocess.run(args, capture_output=True, text=True, cwd=cwd or "/", env=env, **kwargs)
        if check and result.returncode != 0:
            msg = (result.stderr or result.stdout).strip().splitlines()
            raise PbmError(f"{Path(args[0]).name} failed: {msg[-1] if msg else result.returncode}")
        return result

    def _chown_for_server(self, *paths: Path) -> None:
        if _as_root():
            user = _server_user()
            for p in paths:
                os.chown(p, user.pw_uid, user.pw_gid)

    # ---- lifecycle -----------------------------------------------------------------------------------
    @property
    def initialized(self) -> bool:
        st = self.state()
        return st is not None and Path(st.datadir, "PG_VERSION").exists()

    def init(self) -> ClusterState:
        if self.initialized:
            return self.state()
        self.base.mkdir(parents=True, exist_ok=True)
        st = self._plan_layout()
        datadir, socket_dir = Path(st.datadir), Path(st.socket_dir)
        for d in (datadir.parent, datadir, socket_dir):
            d.mkdir(parents=True, exist_ok=True)
        datadir.chmod(0o700)
        self._chown_for_server(datadir, socket_dir)
        initdb = [
            str(Path(st.bindir) / "initdb"),
            "-D",
            str(datadir),
            "-U",
            SUPERUSER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ]
        if self.tuned_for_tests:
            initdb.append("--no-sync")
        self._run(initdb)
        (datadir / "pbm.conf").write_text(self._server_settings(st))
        with open(datadir / "postgresql.conf", "a") as conf:
            conf.write("\ninclude_if_exists = 'pbm.conf'\n")
        self._chown_for_server(datadir / "pbm.conf")
        self.state_file.write_text(json.dumps(asdict(st), indent=2) + "\n")
        return st

    def _server_settings(self, st: ClusterState) -> str:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        shared_mb = int(max(128, min(1024, mem_gb * 1024 / 4)))
        lines = [
            "# written by pbm db up; edit freely, pbm never rewrites it",
            f"port = {st.port}",
            f"unix_socket_directories = '{st.socket_dir}'",
            "listen_addresses = 'localhost'",
            f"shared_buffers = '{shared_mb}MB'",
            "work_mem = '64MB'",
            "maintenance_work_mem = '512MB'",
            "max_wal_size = '4GB'",
            "checkpoint_timeout = '15min'",
            "jit = off",
            "max_connections = 100",
            "shared_preload_libraries = ''",
            "log_min_messages = warning",
            "log_min_error_statement = panic",
            "timezone = 'UTC'",
        ]
        if self.tuned_for_tests:
            # Throwaway test clusters: durability buys nothing, speed does.
            lines += ["fsync = off", "full_page_writes = off", "synchronous_commit = off"]
        return "\n".join(lines) + "\n"

    def is_running(self) -> bool:
        st = self.state()
        if st is None or not Path(st.datadir, "PG_VERSION").exists():
            return False
        result = self._run([str(Path(st.bindir) / "pg_ctl"), "status", "-D", st.datadir], check=False)
        return result.returncode == 0

    def start(self) -> ClusterState:
        st = self.init()
        if self.is_running():
            return st
        Path(st.socket_dir).mkdir(parents=True, exist_ok=True)
        self._chown_for_server(Path(st.socket_dir))
        log = Path(st.datadir).parent / "server.log"
        if not log.exists():
            log.touch()
            self._chown_for_server(log)
        self._run(
            [str(Path(st.bindir) / "pg_ctl"), "start", "-w", "-t", "60", "-D", st.datadir, "-l", str(log)],
            cwd=st.datadir,
        )
        return st

    def stop(self) -> bool:
        st = self.state()
        if st is None or not self.is_running():
            return False
        self._run([str(Path(st.bindir) / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", st.datadir])
        return True

    def destroy(self) -> None:
        st = self.state()
        if st is not None:
            self.stop()
            home = Path(st.datadir).parent
            shutil.rmtree(home, ignore_errors=True)
            shutil.rmtree(st.socket_dir, ignore_errors=True)
        shutil.rmtree(self.base, ignore_errors=True)

    def conninfo(self, dbname: str = "postgres") -> str:
        st = self.state()
        if st is None:
            raise PbmError("the local cluster is not initialised: run `pbm db up`")
        return f"host={st.socket_dir} port={st.port} user={SUPERUSER} dbname={dbname}"
