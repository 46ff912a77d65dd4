"""Click command groups of `pbm`, one module per area; cli.py assembles them."""

from __future__ import annotations

import click

from pbmdb.settings import Target, resolve


class Context:
    def __init__(self, dsn: str | None):
        self.cli_dsn = dsn
        self._target: Target | None = None

    def target(self, *, start: bool = True) -> Target:
        if self._target is None:
            self._target = resolve(self.cli_dsn, start=start)
        return self._target

    @property
    def dsn(self) -> str:
        return self.target().dsn


pass_ctx = click.make_pass_decorator(Context)


def example(text: str) -> str:
    """An 'Example' block for a command's --help (\\b keeps Click from re-wrapping it)."""
    lines = "\n".join(f"  {line}" for line in text.strip().splitlines())
    return f"\b\nExample:\n{lines}"
