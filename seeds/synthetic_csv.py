"""Fast CSV text for the synthetic data: numpy columns -> bytes for COPY ... (FORMAT csv) and feed files.

A million claim rows go through here in about a second: every column is first turned into a fixed-width
byte array (numpy `S` dtype, NUL-padded), the columns are laid side by side with their separators in one
byte matrix, and the NUL padding is squeezed out. Fields never need quoting: the generator only writes
text without commas, quotes or line breaks (checked by `check_plain`). An empty field is NULL.
"""

from __future__ import annotations

import numpy as np

NA = np.int64(-(2**62))  # missing integer / day number
EPOCH = np.datetime64("1970-01-01", "D")


def check_plain(values, what: str) -> None:
    """Refuse text a plain CSV field cannot carry (the generator never quotes)."""
    for v in set(values):
        if any(c in v for c in ',"\r\n') or not v.isascii():
            raise ValueError(f"{what}: {v!r} contains a comma, quote, line break or non-ASCII character")


def text(values) -> np.ndarray:
    """Python strings (None or '' = NULL) as a fixed-width byte array."""
    arr = np.asarray(["" if v is None else v for v in values], dtype=object)
    if arr.size == 0:
        return np.zeros(0, dtype="S1")
    return arr.astype("U").astype("S")


def _digits(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative integers as a left-aligned, NUL-padded ASCII digit matrix (n, width) and their lengths."""
    width = max(1, len(str(int(v.max()))) if v.size else 1)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    d = (v[:, None] // powers) % 10
    leading = (np.cumsum(d != 0, axis=1) == 0).sum(axis=1)
    length = np.maximum(1, width - leading)
    j = np.arange(width)
    src = np.minimum((width - length)[:, None] + j, width - 1)
    out = (np.take_along_axis(d, src, axis=1) + 48).astype(np.uint8)
    out[j[None, :] >= length[:, None]] = 0
    return out, length


def _as_bytes(matrix: np.ndarray) -> np.ndarray:
    n, width = matrix.shape
    return np.ascontiguousarray(matrix).view(f"S{width}").reshape(n)


def integer(values, na=NA) -> np.ndarray:
    """Integers as text; `na` (default NA) becomes NULL."""
    a = np.asarray(values, dtype=np.int64)
    if a.size == 0:
        return np.zeros(0, dtype="S1")
    missing = a == na
    shown = np.where(missing, 0, a)
    if (shown < 0).any():
        width = max(len(str(int(shown.max()))), len(str(int(shown.min()))))
        out = shown.astype(f"S{width}")
    else:
        out = _as_bytes(_digits(shown)[0])
    if missing.any():
        out[missing] = b""
    return out


def money(cents, na=NA) -> np.ndarray:
    """Integer cents as dollars with two decimals ('12.30')."""
    return decimal(cents, 2, na=na, trim=False)


def decimal(units, scale: int, na=NA, trim: bool = True) -> np.ndarray:
    """Integer multiples of 10**-scale as decimal text: trimmed, the shortest form (30000, 3 -> '30';
    500, 3 -> '0.5'), else always `scale` decimals (1230, 2 -> '12.30')."""
    u = np.asarray(units, dtype=np.int64)
    if u.size == 0:
        return np.zeros(0, dtype="S1")
    missing = u == na
    u = np.where(missing, 0, u)
    if (u < 0).any():
        raise ValueError("negative amount")
    base = 10**scale
    whole, length = _digits(u // base)
    frac = u % base
    frac_digits = ((frac[:, None] // 10 ** np.arange(scale - 1, -1, -1)) % 10 + 48).astype(np.uint8)
    if trim:
        shown = np.full(len(u), scale)
        for k in range(1, scale + 1):
            shown -= frac % 10**k == 0
    else:
        shown = np.full(len(u), scale)
    n, width = whole.shape
    out = np.zeros((n, width + 1 + scale), dtype=np.uint8)
    out[:, :width] = whole
    rows = np.arange(n)
    has_frac = shown > 0
    out[rows[has_frac], length[has_frac]] = ord(".")
    for k in range(scale):
        put = shown > k
        out[rows[put], length[put] + 1 + k] = frac_digits[put, k]
    result = _as_bytes(out)
    if missing.any():
        result[missing] = b""
    return result


def dates(days, fmt: str = "iso", na=NA) -> np.ndarray:
    """Day numbers (days since 1970-01-01) as YYYY-MM-DD (iso) or YYYYMMDD (compact)."""
    d = np.asarray(days, dtype=np.int64)
    if d.size == 0:
        return np.zeros(0, dtype="S1")
    missing = d == na
    uniq, inverse = np.unique(np.where(missing, 0, d), return_inverse=True)
    shown = np.datetime_as_string(uniq.astype("datetime64[D]")).astype("S10")
    if fmt == "compact":
        shown = np.strings.replace(shown, b"-", b"").astype("S8")
    out = shown[inverse]
    if missing.any():
        out = out.astype(out.dtype)
        out[missing] = b""
    return out


def timestamps(seconds) -> np.ndarray:
    """Seconds since 1970-01-01 UTC as ISO 8601 with offset ('2025-03-04T09:15:00+00:00')."""
    s = np.asarray(seconds, dtype=np.int64)
    if s.size == 0:
        return np.zeros(0, dtype="S1")
    missing = s == NA
    shown = np.datetime_as_string(np.where(missing, 0, s).astype("datetime64[s]")).astype("S19")
    out = np.strings.add(shown, b"+00:00")
    if missing.any():
        out[missing] = b""
    return out


def boolean(values) -> np.ndarray:
    return np.where(np.asarray(values, dtype=bool), b"t", b"f").astype("S1")


def csv_bytes(columns: list[np.ndarray]) -> bytes:
    """Rows of the given byte columns, comma separated, one line each."""
    if not columns:
        return b""
    n = len(columns[0])
    if n == 0:
        return b""
    widths = []
    for col in columns:
        if len(col) != n:
            raise ValueError("columns of different lengths")
        widths.append(col.dtype.itemsize)
    total = sum(widths) + len(columns)
    matrix = np.zeros((n, total), dtype=np.uint8)
    offset = 0
    for col, width in zip(columns, widths, strict=True):
        matrix[:, offset : offset + width] = np.ascontiguousarray(col).view(np.uint8).reshape(n, width)
        offset += width
        matrix[:, offset] = ord(",")
        offset += 1
    matrix[:, total - 1] = ord("\n")
    flat = matrix.ravel()
    return flat[flat != 0].tobytes()


def header(names, quoted: bool = False) -> bytes:
    if quoted:
        return (",".join(f'"{n}"' for n in names) + "\n").encode()
    return (",".join(names) + "\n").encode()
