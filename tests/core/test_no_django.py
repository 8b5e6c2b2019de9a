"""Engines may use the file writer and the table reader: importing them loads no Django."""

from __future__ import annotations

import subprocess
import sys


def test_importing_files_and_tables_loads_no_django() -> None:
    """A fresh interpreter that imports both modules has no django module loaded."""
    code = (
        "import sys, opencdmo.core.files, opencdmo.core.tables\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'ninja'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
