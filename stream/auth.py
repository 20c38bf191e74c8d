"""The worker's HTTP token: who may read its pages, API and metrics.

Shared by the pages and API (`stream.web.routes`) and the worker's own probes
(`stream.worker.probes`), which `stream.app` serves from one HTTP server.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import SecretStr

log = logging.getLogger(__name__)

Page = Callable[..., Awaitable[Any]]


TOKEN_COOKIE = "healthscore_token"  # noqa: S105 - a cookie name; set by /login for browsers


def authorized(headers: Any, token: SecretStr | None, cookies: Any = None) -> bool:
    """Does a request carry the token, as a bearer token or the /login cookie (always true
    when none is configured)?"""
    if token is None:
        return True
    expected = token.get_secret_value().encode()
    scheme, _, given = str(headers.get("Authorization", "")).partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected):
        return True
    cookie = str((cookies or {}).get(TOKEN_COOKIE, ""))
    return bool(cookie) and hmac.compare_digest(cookie.encode(), expected)


def guarded(token: SecretStr | None) -> Callable[[Page], Page]:
    """A page that needs the bearer token (when one is configured) and never answers with a
    stack trace: an unexpected error is logged and answered with a plain 500."""

    def wrap(page: Page) -> Page:
        @functools.wraps(page)
        async def view(web: Any, request: Any, **kwargs: Any) -> Any:
            if not authorized(request.headers, token, getattr(request, "cookies", None)):
                return web.json(
                    {
                        "error": "this page needs the worker's token: Authorization: Bearer, "
                        "or sign in at /login in a browser"
                    },
                    status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="healthscore"'},
                )
            try:
                return await page(web, request, **kwargs)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("HTTP %s failed", request.path)
                return web.json(
                    {"error": "internal error; the worker's log has the details"}, status=500
                )

        return view

    return wrap
