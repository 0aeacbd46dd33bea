"""The error hierarchy of the domain and store layers.

Entry points (dashboard, ETL, HTTP API) catch :class:`SesizariError` and show
its message; anything else is a bug.  Messages name the field at fault and say
what to do, because they reach citizens and clerks, not only developers.
"""

from __future__ import annotations


class SesizariError(Exception):
    """Base class of every error the project raises on purpose."""


class ValidationError(SesizariError):
    """Input refused before anything was written.

    ``field`` names the offending input (``"latitude"``, ``"category"``...) so a
    form can put the message next to the right widget.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class RateLimitError(ValidationError):
    """Too many submissions from one client (a connection, an API key) this hour."""


class NotFoundError(SesizariError):
    """A city, incident, user... that does not exist (in this city)."""


class TransitionError(SesizariError):
    """A workflow action not allowed from the incident's current status."""


class PermissionDeniedError(SesizariError):
    """The acting user may not see or change this record."""


class ClusterError(SesizariError):
    """The embedded PostgreSQL cluster could not be set up or started."""
