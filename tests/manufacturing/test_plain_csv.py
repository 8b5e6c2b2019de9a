"""The fast CSV path gives the core table reader's table, or leaves the file to it."""

from __future__ import annotations

import numpy as np
import pytest

from opencdmo.core.tables import read_table
from opencdmo.manufacturing.parsing import read_plain_csv

PLAIN = [
    b"time,ph,do_pct\nh,pH,%\n0,7.0,80\n0.5,,79.5\n1,7.01,\n",
    b"time;ph\n0;7\n1;1e-3\n2;-0\n",
    b"\xef\xbb\xbftime,TIC-101.PV\n0,309.65\n1,nan\n2,inf\n",
    b"time,a,b\n0,1,2",
]
NOT_PLAIN = [
    b'time,ph\n0,"7.0"\n',  # quoted
    b"time,ph\r\n0,7.0\r\n",  # carriage returns
    b"time,ph\n0,7.0\n\n1,7.1\n",  # a blank line
    b"time,ph\n0,7.0\n,\n",  # a row of empty cells
    b"time,ph\n0, 7.0\n",  # a space the core reader strips
    b"time,ph\n0,1_000\n",  # Python's float reads it, Arrow does not
    b"time,ph\n0,high\n",  # text
    b"time,,ph\n0,,7\n",  # a column without a name
    b"timestamp,ph\n2026-11-01T08:00:00Z,7\n",  # timestamps
]


@pytest.mark.parametrize("data", PLAIN)
def test_a_plain_file_reads_as_the_core_reader_reads_it(data: bytes) -> None:
    fast = read_plain_csv(data, "run.csv")
    core = read_table(data, name="run.csv")
    assert fast is not None
    assert list(fast.columns) == list(core.columns)
    assert fast.units == core.units
    assert fast.lines.tolist() == core.lines.tolist()
    for name, column in core.columns.items():
        assert fast.columns[name].dtype == column.dtype == float
        assert np.array_equal(fast.columns[name], column, equal_nan=True)
        assert np.array_equal(np.signbit(fast.columns[name]), np.signbit(column))


@pytest.mark.parametrize("data", NOT_PLAIN)
def test_any_other_file_is_left_to_the_core_reader(data: bytes) -> None:
    assert read_plain_csv(data, "run.csv") is None


def test_only_csv_files_take_the_fast_path() -> None:
    assert read_plain_csv(PLAIN[0], "run.tsv") is None
