"""``HEAD`` for every ``GET`` route: the same status and headers, no body.

HTTP says a server should answer ``HEAD`` wherever it answers ``GET``
(RFC 9110, 9.3.2), and the tools that watch a public API use it: a load
balancer's health check, an uptime monitor, a link checker of the city's
open-data catalogue.  FastAPI's routes answer only the methods they name,
so those tools saw 405.  The request goes to the route as a ``GET``; what
it sends back reaches the client without its body.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """ASGI middleware: a ``HEAD`` request is served as ``GET``, body dropped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                # One empty, final body message, whatever the route streamed.
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
