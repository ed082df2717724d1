"""Errors a user can cause; endpoints map them to 4xx and the CLI to exit code 2."""

from __future__ import annotations


class UserError(Exception):
    status_code = 400


class NotFound(UserError):
    status_code = 404


class Conflict(UserError):
    status_code = 409


class Refused(UserError):
    """A well-formed request the product refuses for a business reason (window closed, loop)."""

    status_code = 422
