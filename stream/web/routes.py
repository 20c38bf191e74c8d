"""The customer API and the managers' pages as HTTP routes: handlers with the store and the
policy passed in, registered on the worker's Faust app by `stream.app`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import faust
from pydantic import SecretStr

from scoring.policy import Policy
from stream.auth import TOKEN_COOKIE, authorized, guarded
from stream.i18n import DEFAULT, Words, accepted, supported, words
from stream.store import OPERATION_TIMEOUT, RETRYABLE, Record, RecordStore
from stream.web import pages

MAX_CUSTOMER_ID = 128  # characters, as the input contract has it
PORTFOLIO_PAGE = 50  # customers per portfolio page
WORKLIST_BOOK = 2000  # an owner's customers a worklist reads, most at risk first


class CustomerRoutes:
    """`/customers/{id}` (page), `/customers/{id}/health`, `/customers/{id}/history`,
    `/portfolio`, `/worklist` and `/login`. A Redis that does not answer is a 503, never a
    stack trace; `on_redis_error("http")` counts it."""

    def __init__(
        self,
        store: RecordStore,
        policy: Policy,
        on_redis_error: Callable[[str], None],
        default_locale: str = DEFAULT,
    ) -> None:
        self.store = store
        self.policy = policy
        self.on_redis_error = on_redis_error
        self.default_locale = default_locale  # HEALTHSCORE_LOCALE

    def words(self, request: Any) -> Words:
        """The reader's language: `?lang=`, else `Accept-Language`, else the deployment's."""
        return words_for(request, self.default_locale)

    def register(self, app: faust.App, token: SecretStr | None) -> None:
        """Serve the routes from `app`'s web server, each behind `token` (when one is set)."""
        guard = guarded(token)
        app.page("/customers/{customer_id}/health")(guard(self.customer_health))
        app.page("/customers/{customer_id}/history")(guard(self.customer_history))
        app.page("/customers/{customer_id}")(guard(self.customer_page))
        app.page("/login")(login_view(token, self.default_locale))
        app.page("/portfolio")(guard(self.portfolio))
        app.page("/worklist")(guard(self.worklist))

    async def load_customer(self, web: Any, customer_id: str) -> tuple[Record | None, Any]:
        """The customer's record, or the answer to give instead (400, 503, 404)."""
        if not 1 <= len(customer_id) <= MAX_CUSTOMER_ID:
            error = {"error": f"a customer id is 1-{MAX_CUSTOMER_ID} characters"}
            return None, web.json(error, status=400)
        try:
            async with asyncio.timeout(OPERATION_TIMEOUT):
                record = await self.store.record(customer_id)
        except RETRYABLE as exc:
            self.on_redis_error("http")
            return None, web.json({"error": f"redis unavailable: {exc!r}"}, status=503)
        if record is None or record.evaluated is None:
            return None, web.json({"error": f"unknown customer {customer_id!r}"}, status=404)
        return self.shown(record), None

    def shown(self, record: Record) -> Record:
        """The record as managers may see it: the open alert of a customer the holdout
        experiment holds out is not shown (it is recorded, never delivered: showing it would
        reach the held-out group and hide the alerts' effect, docs/alerts.md). The record is
        this request's own copy, read from Redis for it."""
        if record.alerts.open is not None and self.policy.alerts.held_out(record.customer_id):
            record.alerts.open = None
        return record

    async def customer_health(self, web: Any, request: Any, customer_id: str) -> Any:
        record, answer = await self.load_customer(web, customer_id)
        if record is None:
            return answer
        return web.json(record.health_record(self.policy, self.words(request)))

    async def customer_history(self, web: Any, request: Any, customer_id: str) -> Any:
        record, answer = await self.load_customer(web, customer_id)
        if record is None:
            return answer
        return web.json(pages.history_json(record))

    async def customer_page(self, web: Any, request: Any, customer_id: str) -> Any:
        record, answer = await self.load_customer(web, customer_id)
        if record is None:
            return answer
        w = self.words(request)
        return web.html(pages.customer_page(record, record.health_record(self.policy, w), w))

    async def _book(
        self, web: Any, owner: str | None, offset: int, limit: int
    ) -> tuple[tuple[int, list[Record]] | None, Any]:
        """(total, records) of an owner's book (everyone's without one), or the answer to give
        instead (503)."""
        try:
            async with asyncio.timeout(OPERATION_TIMEOUT):
                total, records = await self.store.portfolio(owner, offset, limit)
                return (total, [self.shown(r) for r in records]), None
        except RETRYABLE as exc:
            self.on_redis_error("http")
            return None, web.json({"error": f"redis unavailable: {exc!r}"}, status=503)

    async def portfolio(self, web: Any, request: Any) -> Any:
        owner = _owner(request)
        try:
            offset = max(0, int(request.query.get("offset") or 0))
        except ValueError:
            offset = 0
        book, answer = await self._book(web, owner, offset, PORTFOLIO_PAGE)
        if book is None:
            return answer
        total, records = book
        w = self.words(request)
        rows = [pages.Row(r, r.health_record(self.policy, w)) for r in records]
        html = pages.portfolio_page(
            rows, owner=owner, total=total, offset=offset, limit=PORTFOLIO_PAGE, w=w
        )
        return web.html(html)

    async def worklist(self, web: Any, request: Any) -> Any:
        owner = _owner(request)
        w = self.words(request)
        if owner is None:
            html = pages.worklist_page([], owner=None, scanned=0, book=0, next_steps={}, w=w)
            return web.html(html)
        book, answer = await self._book(web, owner, 0, WORKLIST_BOOK)
        if book is None:
            return answer
        total, records = book
        rows = [pages.Row(r, r.health_record(self.policy, w)) for r in records]
        html = pages.worklist_page(
            rows,
            owner=owner,
            scanned=len(records),
            book=total,
            next_steps=self.policy.alerts.next_steps,
            w=w,
        )
        return web.html(html)


def _owner(request: Any) -> str | None:
    return (request.query.get("owner") or "").strip()[:MAX_CUSTOMER_ID] or None


def words_for(request: Any, default: str) -> Words:
    """A request's language: `?lang=`, else `Accept-Language`, else `default`."""
    asked = supported(request.query.get("lang")) or accepted(request.headers.get("Accept-Language"))
    return words(asked or default)


def login_view(token: SecretStr | None, default_locale: str = DEFAULT) -> type[faust.web.View]:
    """`/login`: a form that takes the token and keeps it in an HttpOnly cookie, so the pages
    open in a browser when HEALTHSCORE_WEB_TOKEN is set."""

    class Login(faust.web.View):
        async def get(self, request: Any) -> Any:
            return self.html(pages.login_page(False, words_for(request, default_locale)))

        async def post(self, request: Any) -> Any:
            form = await request.post()
            given = str(form.get("token", ""))
            if token is None or not authorized({}, token, {TOKEN_COOKIE: given}):
                w = words_for(request, default_locale)
                return self.html(pages.login_page(True, w), status=401)
            w = words_for(request, default_locale)  # the form's own ?lang=
            where = f"/portfolio?lang={w.locale}"
            response: Any = self.web.text("", status=303, headers={"Location": where})
            response.set_cookie(TOKEN_COOKIE, given, httponly=True, samesite="Strict")
            return response

    return Login
