"""The server's two routes for the staff session cookie.

A Streamlit page talks to the server over a WebSocket and cannot set an
HTTP cookie; these routes can (``dashboard/server.py`` mounts them beside
Streamlit's own).  The page posts to them from a same-origin frame
(``dashboard/staff_session.py``); what the codes and tokens are is in
``sesizari/staff_sessions.py``.

- ``POST <base>/auth/session`` with a one-time code as its body: sets the
  cookie (``HttpOnly``, ``SameSite=Strict``, ``Secure`` over HTTPS) and
  answers 204; 403 for a request from another origin or a code that is
  unknown, used or late.
- ``POST <base>/auth/signout``: expires the cookie if its session has
  ended (the page ends it in the database first); a cookie whose session
  stands is kept, since it may be a newer sign-in from another tab of the
  same browser.  204.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from streamlit import config

from sesizari import db, staff_sessions

# A code is "<city>.<43 characters>"; a longer body is not one.
_MAX_BODY = 64


def base_path() -> str:
    """Streamlit's ``server.baseUrlPath`` as a path prefix ("" or "/prefix")."""
    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def url(name: str) -> str:
    """The address the page posts to for ``name`` ("session" or "signout")."""
    return f"{base_path()}/auth/{name}"


def _same_origin(request: Request) -> bool:
    """Only the dashboard's own pages may post here: the browser's Origin
    names this host (or the host a reverse proxy says it forwarded for), and
    the fetch metadata (when sent) says same-origin.  Another site's page
    cannot set either header: a cross-origin fetch with a custom header
    needs a CORS answer these routes never give."""
    if request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        return False
    origin = request.headers.get("origin")
    hosts = {request.headers.get("host"), request.headers.get("x-forwarded-host")} - {None}
    return origin is not None and urlsplit(origin).netloc in hosts


def _secure(request: Request) -> bool:
    return (
        request.url.scheme == "https"
        or request.headers.get("x-forwarded-proto", "").lower() == "https"
    )


def _claim(code: str) -> staff_sessions.Cookie | None:
    with db.get_engine().begin() as conn:
        return staff_sessions.claim(conn, code)


def _stands(value: str) -> bool:
    with db.get_engine().connect() as conn:
        return staff_sessions.restore(conn, value) is not None


def _refused(reason: str) -> Response:
    return PlainTextResponse(reason, status_code=403, headers={"Cache-Control": "no-store"})


async def claim_session(request: Request) -> Response:
    """Set the session cookie for a one-time code from the sign-in form."""
    if not _same_origin(request):
        return _refused("cross-origin request refused")
    body = await request.body()
    if len(body) > _MAX_BODY:
        return _refused("not a sign-in code")
    cookie = await run_in_threadpool(_claim, body.decode("ascii", "replace"))
    if cookie is None:
        return _refused("sign-in code unknown, used or expired: sign in again")
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        staff_sessions.COOKIE,
        cookie.value,
        expires=cookie.expires_at,
        path=base_path() or "/",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
    return response


async def sign_out(request: Request) -> Response:
    """Expire the cookie once its session has ended."""
    if not _same_origin(request):
        return _refused("cross-origin request refused")
    value = request.cookies.get(staff_sessions.COOKIE)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    if value is None or await run_in_threadpool(_stands, value):
        return response
    response.delete_cookie(
        staff_sessions.COOKIE,
        path=base_path() or "/",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
    return response


def routes() -> list[Route]:
    """The routes, at the addresses :func:`url` gives the page."""
    return [
        Route(url("session"), claim_session, methods=["POST"]),
        Route(url("signout"), sign_out, methods=["POST"]),
    ]
