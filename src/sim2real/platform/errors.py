"""The platform's refusals, each with the HTTP status the API answers with and one line that
says what is wrong and what is allowed."""

from __future__ import annotations

from sim2real.errors import Sim2RealError


class PlatformError(Sim2RealError):
    status = 400


class Unauthorized(PlatformError):
    status = 401


class NotFound(PlatformError):
    status = 404


class Forbidden(PlatformError):
    status = 403


class Conflict(PlatformError):
    status = 409


class TooMany(PlatformError):
    status = 429


class Refused(PlatformError):
    """The submitted endpoint failed its check (unreachable, or metadata that does not fit)."""

    status = 422
