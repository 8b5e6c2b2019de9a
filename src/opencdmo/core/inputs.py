"""The rule of :mod:`opencdmo.core.text` as each front door applies it.

* ``Text``: a pydantic ``str`` for API parameters that are not part of a schema;
* ``InputSchema``: the base of every request schema; each string it holds (also inside
  lists and dicts) is checked, so a new schema is covered by deriving from it;
* ``validate_text`` and ``CleanTextFields``: the Django validator and the form mixin that
  adds it to every text field of a form.
"""

from __future__ import annotations

from typing import Annotated, Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from ninja import Schema
from pydantic import AfterValidator, BaseModel, field_validator
from pydantic_core import PydanticCustomError

from opencdmo.core.text import control_character_problem, texts_in

__all__ = ["CleanTextFields", "InputSchema", "Text", "add_service_errors", "validate_text"]


def _refuse_control_characters(value: Any) -> Any:
    for text in texts_in(value):
        problem = control_character_problem(text)
        if problem is not None:
            raise PydanticCustomError("control_character", problem)
    return value


Text = Annotated[str, AfterValidator(_refuse_control_characters)]
"""A ``str`` API parameter that refuses control characters with a 422 naming it."""


class InputSchema(Schema):
    """Base of request schemas: no string field may hold a control character."""

    @field_validator("*", mode="after")
    @classmethod
    def _acceptable_text(cls, value: Any) -> Any:
        if isinstance(value, BaseModel):  # a nested schema checks its own fields
            return value
        return _refuse_control_characters(value)


def validate_text(value: str) -> None:
    """Django validator: the control-character rule, with the character and its position."""
    problem = control_character_problem(value)
    if problem is not None:
        raise ValidationError(f"The text {problem}.", code="control_character")


class CleanTextFields:
    """Form mixin (put it first): every text field refuses control characters.

    It replaces Django's own NUL validator, so a NUL is reported once, with its position.
    """

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators = [
                    validator
                    for validator in field.validators
                    if not isinstance(validator, ProhibitNullCharactersValidator)
                ] + [validate_text]


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's refusal on a form: each message on its field, or above the form when
    the field is not on it."""
    for name, found in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, found)
