"""Saved inbox views: a name for a set of filters and an order, for oneself or the whole team.

A view holds only the inbox's own parameters (`VIEW_KEYS`), checked like the inbox checks them.
Anyone may save views for themselves; sharing one with the organisation is for the people who
run a team (managers, admins, owners), and only the one who saved a view (or an admin) removes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from relaydesk.auth.scopes import Scope
from relaydesk.conversations import saved_views_repository as repo
from relaydesk.conversations.context import Deps
from relaydesk.conversations.filters import filter_problems
from relaydesk.conversations.sorting import sort_problem
from relaydesk.core.errors import Forbidden, NotFound, UserError
from relaydesk.db import reading, transaction
from relaydesk.models import SavedView

VIEW_KEYS = ("status", "department", "assignee", "language", "sentiment", "intent", "sla", "q", "tag", "sort")
MAX_NAME = 80
MAX_VALUE = 200
MAX_OWN_VIEWS = 50


@dataclass(frozen=True)
class View:
    id: int
    name: str
    filters: dict[str, str]
    shared: bool
    mine: bool

    @property
    def url(self) -> str:
        """The inbox address that shows the view."""
        return "/?" + urlencode(self.filters) if self.filters else "/"


def clean_view(name: str, filters: dict[str, object]) -> tuple[str, dict[str, str]]:
    """The name and filters as stored; UserError naming what is wrong."""
    cleaned_name = " ".join(name.split())
    if not cleaned_name:
        raise UserError("name: give the view a name")
    if len(cleaned_name) > MAX_NAME:
        raise UserError(f"name: at most {MAX_NAME} characters")
    unknown = sorted(set(filters) - set(VIEW_KEYS))
    if unknown:
        raise UserError(f"filters: {', '.join(unknown)} is not an inbox filter (use {', '.join(VIEW_KEYS)})")
    kept = {k: str(v).strip() for k, v in filters.items() if isinstance(v, str | int) and str(v).strip()}
    if not kept:
        raise UserError("filters: a view needs at least one filter or an order")
    if any(len(v) > MAX_VALUE for v in kept.values()):
        raise UserError(f"filters: each value at most {MAX_VALUE} characters")
    problems = filter_problems(
        status=[kept["status"]] if "status" in kept else None,
        sentiment=kept.get("sentiment"),
        sla=kept.get("sla"),
        assignee=kept.get("assignee"),
    )
    if problem := sort_problem(kept.get("sort")):
        problems.append(problem)
    if problems:
        raise UserError("; ".join(problems))
    return cleaned_name, {k: kept[k] for k in VIEW_KEYS if k in kept}


def _out(view: SavedView, scope: Scope) -> View:
    return View(view.id, view.name, dict(view.filters or {}), view.shared, view.user_id == scope.user_id)


def list_views(deps: Deps, scope: Scope) -> list[View]:
    with reading(deps.sessions) as session:
        return [_out(v, scope) for v in repo.views_for(session, scope.org_id, scope.user_id)]


def save_view(deps: Deps, scope: Scope, name: str, filters: dict[str, object], shared: bool) -> View:
    if shared and not scope.can_manage:
        raise Forbidden("only managers, admins and owners share views with the organisation")
    cleaned_name, cleaned = clean_view(name, filters)
    with transaction(deps.sessions) as session:
        if repo.count_own(session, scope.org_id, scope.user_id) >= MAX_OWN_VIEWS:
            raise UserError(f"views: at most {MAX_OWN_VIEWS} each; delete one first")
        view = SavedView(
            org_id=scope.org_id, user_id=scope.user_id, name=cleaned_name, filters=cleaned, shared=shared
        )
        session.add(view)
        session.flush()
        return _out(view, scope)


def delete_view(deps: Deps, scope: Scope, view_id: int) -> None:
    with transaction(deps.sessions) as session:
        view = repo.view_in_org(session, scope.org_id, view_id)
        if view is None or (view.user_id != scope.user_id and not view.shared):
            raise NotFound(f"view {view_id} not found")
        if view.user_id != scope.user_id and not scope.can_configure:
            raise Forbidden("only the person who saved a view, or an admin, removes it")
        session.delete(view)
