"""pbmdb: the thin Python side of a SQL-first PBM database (DSN resolution, local cluster, migrations)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class PbmError(Exception):
    """An error the CLI reports as one line and an exit code (no traceback)."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code
