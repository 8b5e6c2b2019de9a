"""The one rule for text (no control characters but tab, newline and carriage return), as
the table reader, the forms and the request schemas apply it."""

from __future__ import annotations

import codecs
from typing import Any

import pytest
from pydantic import ValidationError

from opencdmo.core.inputs import InputSchema, validate_text
from opencdmo.core.tables import TableError, read_table
from opencdmo.core.text import check_text, control_character_problem, texts_in
from opencdmo.network.forms import SuiteForm


@pytest.mark.parametrize(
    "char", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\ufffe", "\uffff"]
)
def test_control_characters_are_named_with_code_point_and_position(char: str) -> None:
    """The message gives the code point and the 1-based position of the first one."""
    assert control_character_problem(f"ab{char}c{char}") == (
        f"contains a control character (U+{ord(char):04X}) at position 3"
    )


def test_tab_newline_carriage_return_and_other_text_are_accepted() -> None:
    """Multi-line notes, tabs and any printable script pass unchanged."""
    text = "Suite 1\tUSP\r\nÜbersicht – 上海 ✓ \u00a0"
    assert control_character_problem(text) is None
    assert check_text(text) == text


def test_check_text_raises_value_error() -> None:
    """For code that wants an exception, e.g. pydantic validators."""
    with pytest.raises(ValueError, match=r"U\+0000\) at position 2"):
        check_text("a\x00b")


def test_texts_in_finds_strings_inside_lists_and_dicts() -> None:
    """JSON values (lists of modalities, dicts) are searched too."""
    assert list(texts_in({"k": ["a", ("b", 1)], 2: None})) == ["k", "a", "b"]


def test_a_header_with_a_control_character_names_line_and_column() -> None:
    """A stray NUL in a header is refused with its line and column, not taken as UTF-16."""
    with pytest.raises(TableError) as caught:
        read_table(b"batch,te\x00mp\nB1,1\n", name="run.csv")
    assert (caught.value.line, caught.value.column) == (1, "#2")
    assert "U+0000" in caught.value.reason


def test_a_text_cell_with_a_control_character_names_line_and_column() -> None:
    """The first such cell of a text column is named by its line and the column's name."""
    with pytest.raises(TableError) as caught:
        read_table(b"batch,temp\nB1,1\n\nB\x012,2\n", name="run.csv")
    assert (caught.value.line, caught.value.column) == (4, "batch")
    assert str(caught.value) == (
        "run.csv, line 4, column 'batch': the value contains a control character (U+0001) "
        "at position 2"
    )


def test_utf16_without_a_byte_order_mark_is_still_named_as_such() -> None:
    """Text full of NULs is a file saved in the wrong encoding, told as before."""
    data = "batch,temp\nB1,1\n".encode("utf-16-le")
    assert not data.startswith(codecs.BOM_UTF16_LE)
    with pytest.raises(TableError, match="UTF-16 without a byte-order mark"):
        read_table(data, name="run.csv")


class _Patch(InputSchema):
    reason: str
    names: list[str] | None = None


class _Derived(_Patch):
    note: str | None = None


def test_every_string_field_of_a_derived_schema_is_checked() -> None:
    """A schema gets the rule by deriving from InputSchema: plain, optional and list fields."""
    cases: list[tuple[dict[str, Any], str]] = [
        ({"reason": "a\x00b"}, "reason"),
        ({"reason": "ok", "names": ["x", "\x02"]}, "names"),
        ({"reason": "ok", "note": "\uffff"}, "note"),
    ]
    for values, field in cases:
        with pytest.raises(ValidationError) as caught:
            _Derived(**values)
        (error,) = caught.value.errors()
        assert (error["loc"], error["type"]) == ((field,), "control_character")
    assert _Derived(reason="line 1\nline 2\ttab").reason == "line 1\nline 2\ttab"


def test_the_django_validator_says_where() -> None:
    """Pages show the same sentence the API gives."""
    from django.core.exceptions import ValidationError as DjangoValidationError

    with pytest.raises(DjangoValidationError) as caught:
        validate_text("ok\x1f")
    assert caught.value.messages == [
        "The text contains a control character (U+001F) at position 3."
    ]


def test_a_form_reports_nul_once_per_field_with_its_position() -> None:
    """Django's own NUL message gives way to the one rule; each field says so on its own."""
    form = SuiteForm(
        {
            "name": "USP\x00 1",
            "kind": "upstream",
            "gmp_grade": "B",
            "status": "operational",
            "reason": "ok\x07",
        }
    )
    assert not form.is_valid()
    assert form.errors["name"] == ["The text contains a control character (U+0000) at position 4."]
    assert form.errors["reason"] == [
        "The text contains a control character (U+0007) at position 3."
    ]


def test_a_parquet_text_cell_with_a_control_character_names_row_and_column() -> None:
    """Parquet text columns are held to the same rule as CSV and Excel ones."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.table({"batch": ["B1", "B\x002"], "temp": [1.0, 2.0]}), out)
    with pytest.raises(TableError) as caught:
        read_table(out.getvalue(), name="run.parquet")
    assert (caught.value.line, caught.value.column) == (2, "batch")
