"""The one error a load raises: it names the file, and the line and column when the problem is inside the file."""

from __future__ import annotations

from pathlib import Path


class LoadError(Exception):
    def __init__(
        self,
        file: Path | str | None,
        problem: str,
        *,
        line: int | None = None,
        column: str | None = None,
        rolled_back: bool = True,
    ):
        self.file = None if file is None else Path(file)
        self.problem = problem
        self.line = line
        self.column = column
        # False only when the connection died during the commit: whether the load was kept is unknown.
        self.rolled_back = rolled_back
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = [] if self.file is None else [str(self.file)]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.problem}" if where else self.problem


class LoadInterrupted(KeyboardInterrupt):
    """Ctrl-C or a cancelled query stopped the load; the transaction was rolled back, nothing was loaded.

    A KeyboardInterrupt, so that code catching Exception does not swallow the user's Ctrl-C.
    """

    def __init__(self, reason: str = "interrupted"):
        self.reason = reason
        super().__init__(reason)
