"""Reports: the analyst query files of reports/queries/ and the refresh of the reporting schema.

A query file is a psql script: a header of `--` comments (title, description, parameters, chart), psql
defaults for its parameters, and one SELECT of a reporting function with `:'name'` psql variables:

    -- Report: Cost trend with month-over-month and rolling 3-month change
    -- Allowed cost of net paid claims per month ...
    -- Param from date: first month of service
    -- Chart: x=month y=gross_cost,rolling_3m_avg_cost
    \\if :{?from}
    \\else
    \\set from 2000-01-01
    \\endif
    SELECT * FROM reporting.cost_trend(:'from', ...);

`psql -v from=2025-01-01 -f reports/queries/cost_trend.sql` runs it as is; `pbm report run` reads the same
file, takes the defaults from the `\\set` lines, and binds the parameters as query parameters.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import psycopg

from pbmdb import PbmError
from pbmdb.migrate import sql_root

PARAM_TYPES = ("date", "timestamp", "integer", "text", "boolean")
FORMATS = ("table", "csv", "json")
_VARIABLE = re.compile(r":'([A-Za-z_][A-Za-z0-9_]*)'")


@dataclass
class Param:
    name: str
    type: str
    help: str
    default: str = ""
    choices: tuple[str, ...] = ()

    def check(self, value: str) -> str:
        """The value as the SQL expects it, or a PbmError naming the parameter."""
        if self.choices and value not in self.choices:
            raise PbmError(f"parameter {self.name}: {value!r} is not one of {', '.join(self.choices)}", 2)
        try:
            if self.type == "date" and value and value not in ("today", "yesterday"):
                dt.date.fromisoformat(value)
            elif self.type == "timestamp" and value and value != "now":
                dt.datetime.fromisoformat(value)
            elif self.type == "integer" and value:
                int(value)
            elif self.type == "boolean" and value.lower() not in ("true", "false", "yes", "no", "on", "off"):
                raise ValueError
        except ValueError:
            expected = {
                "date": "a date YYYY-MM-DD (or today)",
                "timestamp": "a timestamp YYYY-MM-DD HH:MM[+TZ] or now",
                "integer": "a whole number",
                "boolean": "true or false",
            }[self.type]
            raise PbmError(f"parameter {self.name}: {value!r} is not {expected}", 2) from None
        return value


@dataclass
class Chart:
    x: str
    y: list[str]
    kind: str = "line"


@dataclass
class Report:
    name: str
    path: Path
    title: str
    description: str
    params: list[Param] = field(default_factory=list)
    chart: Chart | None = None
    body: str = ""

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        names = ", ".join(p.name for p in self.params) or "none"
        raise PbmError(f"report {self.name} has no parameter {name} (parameters: {names})", 2)

    def bind(self, overrides: dict[str, str]) -> dict[str, str]:
        """Every parameter's value: the override, else the file's default; each one checked."""
        values = {p.name: p.default for p in self.params}
        for key, value in overrides.items():
            values[self.param(key).name] = value
        return {p.name: p.check(values[p.name]) for p in self.params}

    def sql(self) -> str:
        """The body with each :'name' as a psycopg placeholder (and literal % doubled)."""
        return _VARIABLE.sub(lambda m: f"%({m.group(1)})s", self.body.replace("%", "%%"))


def queries_dir() -> Path:
    return sql_root() / "reports" / "queries"


def parse(path: Path) -> Report:
    title = ""
    description: list[str] = []
    params: list[Param] = []
    chart: Chart | None = None
    defaults: dict[str, str] = {}
    body: list[str] = []
    in_header = True
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if in_header and stripped.startswith("--"):
            text = stripped[2:].strip()
            if text.startswith("Report:"):
                title = text[len("Report:") :].strip()
            elif text.startswith("Param "):
                head, _, help_text = text[len("Param ") :].partition(":")
                name, _, kind = head.strip().partition(" ")
                kind = kind.strip() or "text"
                choices: tuple[str, ...] = ()
                if kind.startswith("choice(") and kind.endswith(")"):
                    choices = tuple(c.strip() for c in kind[len("choice(") : -1].split("|"))
                    kind = "text"
                if kind not in PARAM_TYPES:
                    raise PbmError(f"{path.name}: parameter {name} has unknown type {kind}")
                params.append(Param(name, kind, help_text.strip(), choices=choices))
            elif text.startswith("Chart:"):
                spec = dict(part.split("=", 1) for part in text[len("Chart:") :].split() if "=" in part)
                chart = Chart(spec["x"], spec["y"].split(","), spec.get("kind", "line"))
            elif text:
                description.append(text)
            continue
        in_header = False
        if stripped.startswith("\\"):
            match = re.match(r"\\set\s+(\w+)\s*(.*)$", stripped)
            if match:
                defaults[match.group(1)] = match.group(2).strip().strip("'")
            continue
        body.append(line)
    for p in params:
        p.default = defaults.get(p.name, "")
    return Report(
        name=path.stem,
        path=path,
        title=title or path.stem,
        description=" ".join(description),
        params=params,
        chart=chart,
        body="\n".join(body).strip().rstrip(";"),
    )


def list_reports() -> list[Report]:
    return [parse(p) for p in sorted(queries_dir().glob("*.sql"))]


def find(name: str) -> Report:
    path = queries_dir() / f"{name}.sql"
    if not re.fullmatch(r"[a-z0-9_]+", name) or not path.exists():
        raise PbmError(f"unknown report {name!r}: see pbm report list", 2)
    return parse(path)


def parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise PbmError(f"--param needs KEY=VALUE, got {pair!r}", 2)
        out[key.strip()] = value
    return out


def run(conn: psycopg.Connection, report: Report, values: dict[str, str]) -> tuple[list[str], list[tuple]]:
    """Runs the report; returns the column names and the rows."""
    with conn.cursor() as cur:
        cur.execute(report.sql(), values)
        columns = [d.name for d in cur.description] if cur.description else []
        rows = cur.fetchall() if cur.description else []
    return columns, rows


def refresh(conn: psycopg.Connection, *, full: bool = False) -> list[tuple[str, int | None, Decimal]]:
    """Brings the reporting schema up to date (api.refresh_reporting) and commits; one row per step.

    For the nightly ETL: `from pbmdb.reporting import refresh; refresh(conn)` after the loads commit.
    """
    query = "SELECT step, rows_written, seconds FROM api.refresh_reporting(%s)"
    rows = conn.execute(query, [full]).fetchall()
    conn.commit()
    return rows


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "{" + ",".join(_text(v) for v in value) + "}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _json_value(value):
    if isinstance(value, Decimal):
        whole = value == value.to_integral_value() and value.as_tuple().exponent >= 0
        return int(value) if whole else float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def render(columns: list[str], rows: list[tuple], fmt: str) -> str:
    if fmt == "json":
        records = [{c: _json_value(v) for c, v in zip(columns, row, strict=True)} for row in rows]
        return json.dumps(records, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_text(v) for v in row] for row in rows])
        return buffer.getvalue()
    cells = [[_text(v) for v in row] for row in rows]
    numeric = [
        bool(rows) and all(isinstance(row[i], int | Decimal | float) or row[i] is None for row in rows)
        for i in range(len(columns))
    ]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(columns), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def plot(columns: list[str], rows: list[tuple], report: Report, out: Path) -> None:
    """Draws the report's chart (header `-- Chart: x=... y=a,b`) into a PNG with matplotlib (Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert report.chart is not None
    chart = report.chart
    missing = [c for c in [chart.x, *chart.y] if c not in columns]
    if missing:
        raise PbmError(f"report {report.name}: chart columns {', '.join(missing)} are not in its result")
    if not rows:
        raise PbmError(f"report {report.name} returned no rows: nothing to plot", 1)
    xi = columns.index(chart.x)
    xs = [row[xi] for row in rows]
    fig, ax = plt.subplots(figsize=(10, 5), dpi=100)
    for name in chart.y:
        yi = columns.index(name)
        ys = [float(row[yi]) if row[yi] is not None else float("nan") for row in rows]
        if chart.kind == "bar":
            ax.bar([str(x) for x in xs], ys, label=name)
        else:
            ax.plot(xs, ys, marker="o", label=name)
    ax.set_title(report.title)
    ax.set_xlabel(chart.x)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(out, format="png")
    plt.close(fig)
