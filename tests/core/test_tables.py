"""The table reader: encodings, delimiters, units rows, layouts, limits and where errors are."""

from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from opencdmo.core.tables import TableError, read_rows, read_table, sheet_names

WIDE = "batch,time,temp,ph\nB1,0,36.9,7.1\nB1,1,37.0,7.0\nB2,0,37.2,7.2\n"


def _xlsx(rows: list[list[object]], title: str = "data") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_with_sheet_xml(sheet_xml: str) -> bytes:
    """A workbook whose first sheet is ``sheet_xml``: large or damaged sheets, built fast."""
    source = zipfile.ZipFile(io.BytesIO(_xlsx([["x"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml.encode()
            target.writestr(item.filename, data)
    return out.getvalue()


def _sheet_xml(n_rows: int, *, damaged: bool = False, dimension: str | None = None) -> str:
    """A header (batch, value) and ``n_rows`` numeric rows; optionally cut off mid-tag."""
    header = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>batch</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>value</t></is></c></row>'
    )
    rows = "".join(
        f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>1.5</v></c></row>'
        for r in range(2, n_rows + 2)
    )
    start = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + ("" if dimension is None else f'<dimension ref="{dimension}"/>')
        + "<sheetData>"
    )
    end = '<row r="x"><c r=' if damaged else "</sheetData></worksheet>"
    return start + header + rows + end


def _unpacked_sheet_bytes(data: bytes) -> int:
    return zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml").file_size


# --- delimiters and encodings ---------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_detected(delimiter: str) -> None:
    """Comma, semicolon, tab and pipe files read to the same columns."""
    table = read_table(WIDE.replace(",", delimiter).encode(), name="wide.csv")
    assert list(table.columns) == ["batch", "time", "temp", "ph"]
    np.testing.assert_allclose(table.columns["temp"], [36.9, 37.0, 37.2])


def test_delimiters_inside_quotes_do_not_count() -> None:
    """A header with quoted commas is still told as semicolon separated."""
    table = read_table(b'"temp, inlet";"temp, outlet"\n1;2\n', name="x.csv")
    assert list(table.columns) == ["temp, inlet", "temp, outlet"]


def test_a_given_delimiter_and_tsv_files_override_detection() -> None:
    """The caller's delimiter wins; a .tsv file is tab separated."""
    table = read_table(b"a;b,c\n1;2,3\n", name="x.csv", delimiter=",")
    assert list(table.columns) == ["a;b", "c"]
    assert list(read_table(b"a,b\tc\n1,2\t3\n", name="x.tsv").columns) == ["a,b", "c"]


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [
        (b"", "utf-8"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_utf8_and_utf16_files_with_a_byte_order_mark_read_alike(bom: bytes, encoding: str) -> None:
    """The byte-order mark picks the encoding and is not part of the first column's name."""
    data = bom + "site;city\nZH;Zürich\n".encode(encoding)
    table = read_table(data, name="sites.csv")
    assert list(table.columns) == ["site", "city"]
    assert table.columns["city"][0] == "Zürich"


def test_undecodable_bytes_are_named_by_line_and_byte_offset() -> None:
    """Latin-1 bytes in a UTF-8 file: the error names line 3 and the offending byte."""
    data = b"site,city\nZH,Zurich\nBS,B\xe2le\n"
    with pytest.raises(TableError) as caught:
        read_table(data, name="sites.csv")
    error = caught.value
    assert (error.file, error.line, error.byte_offset) == ("sites.csv", 3, data.index(b"\xe2"))
    assert str(error) == "sites.csv, line 3 (byte 24): not UTF-8 text; save the file as CSV UTF-8"


def test_utf16_without_a_byte_order_mark_is_refused_clearly() -> None:
    """UTF-16 without its mark would pass as UTF-8 full of NULs; the first NUL is named."""
    with pytest.raises(TableError) as caught:
        read_table("a,b\n1,2\n".encode("utf-16-le"), name="x.csv")
    assert (caught.value.line, caught.value.byte_offset) == (1, 1)
    assert "UTF-16 without a byte-order mark" in caught.value.reason


# --- header, units and cells ----------------------------------------------------------------


def test_a_units_row_under_the_header_is_detected_and_kept_apart() -> None:
    """Text over numbers under the header is the units row, not data."""
    table = read_table(b"batch,time,temp\n,h,degC\nB1,0,36.9\nB1,1,37.0\n", name="x.csv")
    assert table.units == {"time": "h", "temp": "degC"}
    np.testing.assert_allclose(table.columns["temp"], [36.9, 37.0])
    assert table.lines.tolist() == [3, 4]


def test_a_text_table_has_no_units_row_unless_declared() -> None:
    """A table of names only is not mistaken for one with units; a declared row is taken."""
    data = b"owner,kind\nalpha,upstream\nbeta,downstream\n"
    assert read_table(data, name="suites.csv").units == {}
    declared = read_table(data, name="suites.csv", units_row=True)
    assert declared.units == {"owner": "alpha", "kind": "upstream"}
    assert len(declared) == 1
    refused = read_table(b"batch,t\n,h\nB1,0\n", name="x.csv", units_row=False)
    assert refused.columns["t"].tolist() == ["h", "0"]


def test_excel_units_row_and_typed_cells() -> None:
    """An Excel sheet's units row and numeric cells read as in CSV; rows are Excel rows."""
    data = _xlsx([["batch", "time", "temp"], [None, "h", "degC"], ["B1", 0, 36.9], ["B1", 1.5, 37]])
    table = read_table(data, name="plant.xlsx")
    assert table.sheet == "data"
    assert table.units == {"time": "h", "temp": "degC"}
    np.testing.assert_allclose(table.columns["time"], [0.0, 1.5])
    assert table.lines.tolist() == [3, 4]


def test_a_bad_cell_is_named_by_line_and_column() -> None:
    """A quoted value spanning lines shifts the line of the bad cell that follows."""
    data = b'batch,note,temp\nB1,"two\nlines",36.9\nB1,ok,n/a\n'
    table = read_table(data, name="x.csv")
    with pytest.raises(TableError) as caught:
        table.floats("temp")
    assert (caught.value.line, caught.value.column) == (4, "temp")
    assert str(caught.value) == "x.csv, line 4, column 'temp': 'n/a' is not a number"


def test_a_bad_excel_cell_is_named_by_sheet_row_and_column() -> None:
    """In a workbook the error names the sheet and the Excel row."""
    table = read_table(_xlsx([["t", "x"], [0, 1], [1, "high"]], title="run"), name="r.xlsx")
    with pytest.raises(TableError, match=r"r.xlsx \[sheet run\], row 3, column 'x': 'high'"):
        table.floats("x")


def test_ragged_rows_and_values_without_a_header_are_refused() -> None:
    """A CSV row with a field too few or too many, or a stray Excel value, names its line."""
    with pytest.raises(TableError, match=r"line 3: 2 fields where the header has 3"):
        read_table(b"a,b,c\n1,2,3\n1,2\n", name="x.csv")
    with pytest.raises(TableError, match=r"line 2: 4 fields where the header has 3"):
        read_table(b"a,b,c\n1,2,3,4\n", name="x.csv")
    with pytest.raises(TableError, match=r"row 2, column '#3': value in a column without"):
        read_table(_xlsx([["a", "b"], [1, 2, 3]]), name="x.xlsx")


def test_a_repeated_column_name_is_refused() -> None:
    """Two columns of one name would hide one of them."""
    with pytest.raises(TableError, match="line 1, column 'temp': column appears more than once"):
        read_table(b"temp,temp\n1,2\n", name="x.csv")


def test_blank_lines_and_trailing_delimiters_are_ignored() -> None:
    """Blank rows are skipped and an empty last field does not make a column."""
    table = read_table(b"\n\na,b,\n1,2,\n\n3,4,\n", name="x.csv")
    assert list(table.columns) == ["a", "b"]
    assert table.lines.tolist() == [4, 6]


def test_missing_unknown_and_empty_files_are_named() -> None:
    """No file, an unknown suffix and an empty file each say so."""
    with pytest.raises(TableError, match=r"absent.csv: no such file"):
        read_table("absent.csv")
    with pytest.raises(TableError, match=r"unknown file type '\.json'"):
        read_table(b"{}", name="x.json")
    with pytest.raises(TableError, match="the file is empty"):
        read_table(b"\n \n", name="x.csv")


def test_excel_sheets_are_listed_and_a_missing_one_named() -> None:
    """A wrong sheet name lists the sheets there are."""
    data = _xlsx([["a"], [1]], title="Batches")
    assert sheet_names(data, name="x.xlsx") == ["Batches"]
    with pytest.raises(TableError, match="no sheet 'Runs'; the sheets are Batches"):
        read_table(data, name="x.xlsx", sheet="Runs")


# --- damaged files and limits ---------------------------------------------------------------


def test_a_truncated_workbook_is_not_readable() -> None:
    """Half an .xlsx file is refused as a whole, naming the file."""
    data = _xlsx([["a", "b"], *[[i, i] for i in range(200)]])
    with pytest.raises(TableError, match=r"^half.xlsx: not a readable Excel workbook"):
        read_table(data[: len(data) // 2], name="half.xlsx")


def test_a_workbook_damaged_inside_a_sheet_names_the_row_it_reached() -> None:
    """A sheet whose XML breaks off fails at the row after the last good one."""
    data = _xlsx_with_sheet_xml(_sheet_xml(50, damaged=True))
    with pytest.raises(TableError, match=r"\[sheet data\], row 52: the workbook is damaged"):
        read_table(data, name="broken.xlsx")


@pytest.mark.parametrize("dimension", ["A1:B100001", None])
def test_an_xlsx_that_decompresses_to_many_rows_stops_at_the_limit(dimension: str | None) -> None:
    """100,000 rows packed small: reading stops at row 1,001 of a 1,000-row limit.

    Without a recorded dimension openpyxl would parse the whole sheet on opening (about
    5 s here); the reader adds one first, so both files stop as early.
    """
    data = _xlsx_with_sheet_xml(_sheet_xml(100_000, dimension=dimension))
    assert _unpacked_sheet_bytes(data) > 4 * len(data)
    with pytest.raises(TableError) as caught:
        read_table(data, name="bomb.xlsx", max_rows=1_000)
    assert caught.value.line == 1_001
    assert "more than 1,000 rows; the limit is 1,000" in str(caught.value)


def test_a_sheet_unpacking_past_the_byte_limit_is_refused_unread() -> None:
    """The unpacked size recorded in the zip is checked before any XML is parsed."""
    data = _xlsx_with_sheet_xml(_sheet_xml(10_000))
    assert len(data) < 200_000
    with pytest.raises(
        TableError, match=r"sheet1.xml unpacks to [\d,]+ bytes; the limit is 200,000"
    ):
        read_table(data, name="x.xlsx", max_bytes=200_000)


def test_a_recorded_dimension_too_small_loses_no_rows() -> None:
    """A sheet claiming A1:B2 but holding 10 rows is read whole."""
    table = read_table(_xlsx_with_sheet_xml(_sheet_xml(10, dimension="A1:B2")), name="x.xlsx")
    assert len(table) == 10
    assert table.columns["batch"].tolist() == list(range(2, 12))


def test_the_limit_stops_reading_before_the_rest_of_the_file() -> None:
    """Rows after the limit are never read: damage beyond it goes unnoticed."""
    data = _xlsx_with_sheet_xml(_sheet_xml(5_000, damaged=True))
    with pytest.raises(TableError, match="more than 1,000 rows"):
        read_table(data, name="x.xlsx", max_rows=1_000)
    with pytest.raises(TableError, match="the workbook is damaged"):
        read_table(data, name="x.xlsx", max_rows=10_000)


def test_a_csv_over_the_cell_limit_stops_early() -> None:
    """The limit on cells counts every cell read and names the line that passes it."""
    data = b"a,b\n" + b"1,2\n" * 100_000
    with pytest.raises(TableError, match=r"line 6: more than 10 cells"):
        read_table(data, name="x.csv", max_cells=10)


# --- layouts --------------------------------------------------------------------------------


def test_long_table_is_told_and_turned_wide_with_units() -> None:
    """One row per (batch, time, variable) becomes one row per (batch, time)."""
    data = (
        b"batch,time,variable,value,unit\n"
        b"B1,0,temp,36.9,degC\nB1,0,ph,7.1,pH\nB1,1,temp,37.0,degC\nB2,0,temp,37.2,degC\n"
    )
    long = read_table(data, name="long.csv")
    assert long.layout == "long"
    wide = long.to_wide()
    assert wide.layout == "wide"
    assert wide.columns["batch"].tolist() == ["B1", "B1", "B2"]
    np.testing.assert_allclose(wide.columns["time"], [0, 1, 0])
    np.testing.assert_allclose(wide.columns["temp"], [36.9, 37.0, 37.2])
    np.testing.assert_allclose(wide.columns["ph"], [7.1, np.nan, np.nan])
    assert wide.units == {"temp": "degC", "ph": "pH"}
    assert wide.lines.tolist() == [2, 4, 5]


def test_wide_table_is_told_by_its_columns() -> None:
    """A table with a column per variable is wide as read."""
    assert read_table(WIDE.encode(), name="wide.csv").layout == "wide"


def test_a_long_value_given_twice_or_with_two_units_is_named() -> None:
    """The second (batch, time, variable) or a changed unit names its line."""
    head = b"batch,time,variable,value,unit\nB1,0,temp,36.9,degC\n"
    with pytest.raises(TableError, match=r"line 3, column 'variable': variable 'temp' at batch"):
        read_table(head + b"B1,0,temp,37,degC\n", name="x.csv").to_wide()
    with pytest.raises(TableError, match=r"line 3, column 'unit': variable 'temp' has unit 'K'"):
        read_table(head + b"B1,1,temp,310,K\n", name="x.csv").to_wide()


# --- Parquet --------------------------------------------------------------------------------


def test_parquet_round_trip_keeps_values_nulls_and_units(tmp_path: Path) -> None:
    """Numbers, nulls, strings, dictionary columns and field units come back."""
    schema = pa.schema(
        [
            pa.field("batch", pa.dictionary(pa.int32(), pa.string())),
            pa.field("time", pa.float64(), metadata={"unit": "h"}),
            pa.field("count", pa.int64()),
            pa.field("phase", pa.string()),
        ]
    )
    arrow = pa.table(
        {
            "batch": pa.array(["B1", "B1", "B2"]).dictionary_encode(),
            "time": [0.0, 0.5, 0.0],
            "count": [1, None, 3],
            "phase": ["growth", "growth", None],
        },
        schema=schema,
    )
    pq.write_table(arrow, tmp_path / "b.parquet")
    table = read_table(tmp_path / "b.parquet")
    assert table.columns["batch"].tolist() == ["B1", "B1", "B2"]
    np.testing.assert_allclose(table.columns["time"], [0.0, 0.5, 0.0])
    np.testing.assert_allclose(table.columns["count"], [1.0, np.nan, 3.0])
    assert table.columns["phase"].tolist() == ["growth", "growth", ""]
    assert table.units == {"time": "h"}
    assert table.lines.tolist() == [1, 2, 3]


def test_parquet_text_columns_are_typed_per_distinct_value(tmp_path: Path) -> None:
    """Numeric text, chunked dictionaries and a missing value read as per-cell typing would."""
    chunks = [pa.array(["1.5", "2"]).dictionary_encode(), pa.array(["2", None]).dictionary_encode()]
    arrow = pa.table(
        {
            "level": pa.chunked_array(chunks),
            "name": pa.chunked_array([["a", "b"], [None, "a"]]),
        }
    )
    pq.write_table(arrow, tmp_path / "t.parquet", row_group_size=2)
    table = read_table(tmp_path / "t.parquet")
    np.testing.assert_allclose(table.columns["level"], [1.5, 2.0, 2.0, np.nan])
    assert table.columns["name"].tolist() == ["a", "b", "", "a"]


def test_parquet_over_the_limit_or_damaged_is_refused(tmp_path: Path) -> None:
    """The footer's row count is checked before reading; a damaged file is named."""
    pq.write_table(pa.table({"x": np.arange(5_000.0)}), tmp_path / "big.parquet")
    with pytest.raises(TableError, match="5,000 rows; the limit is 1,000"):
        read_table(tmp_path / "big.parquet", max_rows=1_000)
    data = (tmp_path / "big.parquet").read_bytes()
    with pytest.raises(TableError, match="not a readable Parquet file"):
        read_table(data[: len(data) // 2], name="cut.parquet")


# --- rows for callers that check cells themselves -------------------------------------------


def test_rows_keep_raw_cells_and_physical_lines_and_end_at_a_csv_error() -> None:
    """read_rows yields rows as written, then raises where the CSV module gives up."""
    data = b'a,b\n1,"x\ny"\n2,"' + b"z" * 200_000 + b'"\n'
    rows = read_rows(data, name="x.csv")
    assert next(rows).cells == ("a", "b")
    assert next(rows).cells == ("1", "x\ny")
    with pytest.raises(TableError, match=r"line 4: unreadable CSV \(field larger"):
        next(rows)


def test_bytes_need_a_name_that_tells_their_type() -> None:
    """Bytes alone could be anything; the reader asks for a name."""
    with pytest.raises(TypeError, match="needs a name"):
        read_table(b"a,b\n")
