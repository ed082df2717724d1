"""Response headers every answer gets: no sniffing, no caching of private data, HTTPS only in production.

A pure ASGI middleware (not Starlette's BaseHTTPMiddleware): it only edits the response start
message, so streaming bodies and the request body limit are untouched.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Files that are the same for everyone may be cached; everything else holds someone's data.
CACHEABLE_PREFIXES = ("/static/", "/docs/assets/")


def secure_cookie(value: str) -> str:
    """A Set-Cookie value with the Secure attribute (added once)."""
    attributes = [part.strip().lower() for part in value.split(";")[1:]]
    return value if "secure" in attributes else value + "; Secure"


def hsts_value(production: bool, hsts_max_age: int) -> str | None:
    """Strict-Transport-Security, sent in production only (None: not sent)."""
    return f"max-age={hsts_max_age}; includeSubDomains" if production and hsts_max_age else None


def every_answer(*, cacheable: bool, hsts: str | None) -> list[tuple[str, str]]:
    """The headers every answer carries (the webhook door's too, which answers before this runs)."""
    headers = [("X-Content-Type-Options", "nosniff")]
    if not cacheable:
        # An API answer or page cached by a shared proxy or the browser's disk would show one
        # agent's customers to whoever uses the cache next.
        headers.append(("Cache-Control", "no-store"))
    if hsts:
        headers.append(("Strict-Transport-Security", hsts))
    return headers


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, production: bool, hsts_max_age: int) -> None:
        self.app = app
        self.production = production
        self.hsts = hsts_value(production, hsts_max_age)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = str(scope.get("path", "")).startswith(CACHEABLE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in every_answer(cacheable=cacheable, hsts=self.hsts):
                    headers.setdefault(name, value)
                if self.production:
                    # Production runs behind HTTPS: no cookie (session, CSRF, flash) may travel
                    # over plain HTTP, whichever code set it.
                    cookies = headers.getlist("set-cookie")
                    if cookies:
                        del headers["set-cookie"]
                        for cookie in cookies:
                            headers.append("set-cookie", secure_cookie(cookie))
            await send(message)

        await self.app(scope, receive, send_with_headers)
