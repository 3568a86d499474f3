"""Lint is part of the test suite: ruff for Python, sqlfluff (jinja templater, dbt builtins) for SQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from queijaria import PROJECT_ROOT

BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)


def test_ruff_check_is_clean() -> None:
    result = run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = run(str(BIN / "ruff"), "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_sqlfluff_lint_is_clean() -> None:
    result = run(str(BIN / "sqlfluff"), "lint", "--processes", "2", "models", "tests", "analyses")
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
