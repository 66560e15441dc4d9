"""The error tree and how framework errors map onto it."""

from __future__ import annotations

from litestar.exceptions import ValidationException

from podium.errors import Conflict, from_validation, validation_error


def test_problem_members() -> None:
    problem = Conflict("taken", field="scope", class_id="abc").problem()
    assert problem == {
        "type": "/problems/conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "taken",
        "field": "scope",
        "class_id": "abc",
    }


def test_msgspec_paths_name_the_field() -> None:
    err = validation_error("Expected `int`, got `str` - at `$.time[1]`")
    assert err.field == "time[1]" and err.status == 422
    assert validation_error("Object missing required field `title`").field == "title"
    assert validation_error("Object missing required field `x` - at `$.a`").field == "a.x"
    assert validation_error("Expected `object`, got `array`").field == "body"


def test_framework_validation_errors_name_the_parameter() -> None:
    exc = ValidationException(
        "bad", extra=[{"message": "Expected `int`", "key": "limit", "source": "query"}]
    )
    err = from_validation(exc)
    assert err.status == 422 and err.field == "limit"
