"""The error hierarchy of the domain and store layers.

Entry points (dashboard, ETL, HTTP API) catch :class:`SesizariError` and show
its message; anything else is a bug.  Messages name the field at fault and say
what to do, because they reach citizens and clerks, not only developers.
"""

from __future__ import annotations


class SesizariError(Exception):
    """Base class of every error the project raises on purpose.

    The message is English (``str(exc)``: the HTTP API, the command line,
    logs); ``ro`` is the same message in Romanian, for the pages, whose
    default language it is.  :meth:`says` picks one.
    """

    def __init__(self, message: str, ro: str | None = None) -> None:
        super().__init__(message)
        self.ro = ro

    def says(self, lang: str) -> str:
        """The message in ``lang`` (``"ro"``/``"en"``); English where no Romanian was written."""
        return self.ro if lang == "ro" and self.ro else str(self)


#: The Romanian name of each input a :class:`ValidationError` can name.
FIELDS_RO: dict[str, str] = {
    "address": "adresa",
    "address_string": "adresa",
    "api_key": "cheia API",
    "area": "zona",
    "assignee": "persoana",
    "bins": "intervalele",
    "boundary": "limita orașului",
    "by": "cine",
    "categories": "categoriile",
    "category": "categoria",
    "cell_m": "latura celulei",
    "channel": "canalul",
    "city": "orașul",
    "code": "codul",
    "consent": "acordul",
    "contact_retention_days": "păstrarea datelor de contact (zile)",
    "department": "compartimentul",
    "departments": "compartimentele",
    "description": "descrierea",
    "districts": "cartierele",
    "duplicate_of": "dublură a",
    "email": "e-mailul",
    "end": "data de sfârșit",
    "end_date": "data de sfârșit",
    "eps_m": "distanța de grupare",
    "estimate_days": "perioada pentru estimare (zile)",
    "external_id": "id-ul extern",
    "first_name": "prenumele",
    "forward_days": "termenul de redirecționare (zile)",
    "forwarded_at": "data redirecționării",
    "forwarded_to": "instituția",
    "full_name": "numele complet",
    "geom": "geometria",
    "group_by": "gruparea",
    "incident": "sesizarea",
    "jurisdiction_id": "jurisdicția",
    "kind": "felul",
    "lang": "limba",
    "last_name": "numele de familie",
    "lat": "latitudinea",
    "latitude": "latitudinea",
    "legal_due_at": "termenul legal",
    "legal_extension_days": "prelungirea termenului legal (zile)",
    "legal_reply_days": "termenul legal de răspuns (zile)",
    "limit": "numărul maxim",
    "location": "locul",
    "long": "longitudinea",
    "longitude": "longitudinea",
    "min_points": "mărimea minimă a grupului",
    "min_recurrences": "numărul minim de repetări",
    "name": "numele",
    "name_en": "numele în engleză",
    "name_ro": "numele în română",
    "notes": "observațiile",
    "now": "momentul de referință",
    "number": "numărul",
    "open311": "serverul Open311",
    "outcome": "rezultatul",
    "password": "parola",
    "phone": "telefonul",
    "photo": "fotografia",
    "pin": "codul PIN",
    "public_precision_m": "generalizarea locației (m)",
    "rate_limit": "limită depășită",
    "reason": "motivul",
    "recurrence_days": "fereastra pentru probleme recurente (zile)",
    "recurrence_m": "distanța pentru probleme recurente (m)",
    "registry_number": "numărul de înregistrare",
    "registry_prefix": "prefixul de înregistrare",
    "resolution_photo_required": "fotografia obligatorie la rezolvare",
    "resolution_text": "descrierea rezolvării",
    "role": "rolul",
    "service_code": "categoria",
    "service_request_id": "numărul sesizării",
    "share": "proporția",
    "since": "data de început",
    "size_m": "mărimea hexagonului",
    "slug": "identificatorul orașului",
    "sort": "ordonarea",
    "stage": "etapa",
    "start": "data de început",
    "start_date": "data de început",
    "status": "starea",
    "statuses": "stările",
    "target_hours": "termenul țintă",
    "text": "textul",
    "timezone": "fusul orar",
    "username": "utilizatorul",
    "verdict": "verdictul",
    "verification_days": "termenul de confirmare (zile)",
    "work_anonymous": "lucrul pe sesizări anonime",
}


#: The English name of an input, for the pages, where the field's code is
#: not plain words; any other code is read with its underscores as spaces
#: (``registry_number`` -> "registry number").
FIELDS_EN: dict[str, str] = {
    "address_string": "address",
    "api_key": "API key",
    "bins": "intervals",
    "boundary": "city boundary",
    "cell_m": "cell size (m)",
    "contact_retention_days": "contact retention (days)",
    "email": "e-mail",
    "eps_m": "clustering distance (m)",
    "estimate_days": "period for estimates (days)",
    "external_id": "external ID",
    "forward_days": "forwarding term (days)",
    "forwarded_at": "forwarding date",
    "forwarded_to": "institution",
    "geom": "geometry",
    "group_by": "grouping",
    "jurisdiction_id": "jurisdiction",
    "lang": "language",
    "lat": "latitude",
    "legal_due_at": "legal deadline",
    "legal_extension_days": "extension of the legal term (days)",
    "legal_reply_days": "legal reply term (days)",
    "long": "longitude",
    "min_points": "minimum cluster size",
    "min_recurrences": "minimum repeats",
    "name_en": "name in English",
    "name_ro": "name in Romanian",
    "now": "reference time",
    "open311": "Open311 server",
    "pin": "PIN",
    "public_precision_m": "location generalisation (m)",
    "rate_limit": "limit reached",
    "recurrence_days": "window for recurring problems (days)",
    "recurrence_m": "distance for recurring problems (m)",
    "resolution_photo_required": "photo required on resolution",
    "resolution_text": "description of the fix",
    "service_code": "category",
    "service_request_id": "report number",
    "since": "start date",
    "size_m": "hexagon size (m)",
    "slug": "city identifier",
    "sort": "order",
    "target_hours": "target time",
    "timezone": "time zone",
    "username": "user name",
    "verification_days": "confirmation window (days)",
    "work_anonymous": "work on anonymous reports",
}


class ValidationError(SesizariError):
    """Input refused before anything was written.

    ``field`` names the offending input (``"latitude"``, ``"category"``...) so a
    form can put the message next to the right widget.  ``str(exc)`` starts
    with that code (the HTTP API's clients and the logs know the inputs by
    it); the pages show the field's name in words, ``ro`` with its Romanian
    name (:data:`FIELDS_RO`), English with :data:`FIELDS_EN`.
    """

    def __init__(self, field: str, message: str, ro: str | None = None) -> None:
        said = f"{FIELDS_RO.get(field, field)}: {ro}" if ro else None
        super().__init__(f"{field}: {message}", said)
        self.field = field
        self.message = message

    def says(self, lang: str) -> str:
        """The message for a person: the field named in words, in ``lang``."""
        if lang == "ro" and self.ro:
            return self.ro
        return f"{FIELDS_EN.get(self.field, self.field.replace('_', ' '))}: {self.message}"


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
