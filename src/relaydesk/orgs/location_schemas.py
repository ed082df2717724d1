"""What the organisation tree's pages (and any API over them) read: places, schedules, changes."""

from __future__ import annotations

from pydantic import BaseModel, Field


class HoursRef(BaseModel):
    """The schedule a place keeps, and whether it is its own or comes from the place above."""

    key: str
    name: str
    inherited: bool


class Crumb(BaseModel):
    key: str
    name: str
    kind: str


class PlaceOut(BaseModel):
    id: int
    key: str
    name: str
    kind: str
    timezone: str
    timezone_inherited: bool
    hours: HoursRef | None  # None: no schedule anywhere above either (open around the clock)
    children: int
    path: list[Crumb] = Field(default_factory=list)  # from the top down to its parent


class TreeNode(BaseModel):
    place: PlaceOut
    open: bool = False
    children: list[TreeNode] = Field(default_factory=list)
    more: int = 0  # children not shown under an opened node (its own page lists them all)


class PlacePage(BaseModel):
    places: list[PlaceOut]
    total: int
    page: int
    pages: int


class ScheduleOut(BaseModel):
    key: str
    name: str
    weekly: dict[str, list[list[str]]]
    holidays: list[str]
    used_by: int  # places
    used_outside: int  # of them, places outside the caller's part of the organisation
    policies: list[str]  # SLA policies that name it


class PlaceDetail(BaseModel):
    place: PlaceOut
    schedule: ScheduleOut | None
    parent: Crumb | None
    children: PlacePage
    uses: dict[str, int]  # what would keep it from being deleted
    may_rename: bool
    may_hours: bool
    may_add: bool
    may_delete: bool
    may_edit_schedule: bool
    may_new_schedule: bool
    child_kinds: list[str]


class BulkPreview(BaseModel):
    """What one bulk change would do, said before it is done."""

    target_label: str
    matched: int  # places the target reaches
    changing: int  # of them, places whose values would change
    before: dict[str, dict[str, int]]  # field -> old value shown -> places
    after: dict[str, str]
    sample: list[str]  # keys of some of the places that change
