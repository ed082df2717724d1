"""Errors a user can cause; endpoints map them to 4xx and the CLI to exit code 2."""

from __future__ import annotations

from typing import Any, Self


class UserError(Exception):
    status_code = 400

    def __init__(self, message: str = "", **extra: Any) -> None:
        super().__init__(message)
        # More fields of the JSON answer beside `detail` (say, `errors` by field, `problems` by line).
        self.extra = extra
        # The same problem as a key and its values, for the pages to say in the reader's language
        # (web.problems); the English message stays the API's `detail`.
        self.key: str | None = None
        self.params: dict[str, str] = {}

    def saying(self, key: str, **params: object) -> Self:
        self.key = key
        self.params = {name: str(value) for name, value in params.items()}
        return self


class NotFound(UserError):
    status_code = 404


class Conflict(UserError):
    status_code = 409


class Refused(UserError):
    """A well-formed request the product refuses for a business reason (window closed, loop)."""

    status_code = 422


class Forbidden(Exception):
    """The caller is authenticated but may not do this (403, through its own handler in app.py)."""
