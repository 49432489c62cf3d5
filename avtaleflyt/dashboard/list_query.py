"""The list's query string (`/` and `/api/revisions`): read into filters and a page, or refused
with a message in bokmål naming the parameter. The page shows the message; the API answers 422."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from avtaleflyt.models.enums import RevisionStatus
from avtaleflyt.tasks.revision_list import ListFilters

PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PAGE = 100_000
FLAGS = {"1": True, "true": True, "ja": True, "on": True, "0": False, "false": False, "nei": False, "off": False, "": False}
KNOWN = ("status", "helsefellesskap", "mine", "overdue", "page", "per_page")


class ListQueryError(ValueError):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param, self.message = param, message


@dataclass(frozen=True)
class ListQuery:
    filters: ListFilters = field(default_factory=ListFilters)
    page: int = 1
    per_page: int = PER_PAGE

    def url(self, path: str, page: int) -> str:
        """`path` with these filters and `page`: the pager's links keep the filters."""
        f = self.filters
        params: dict[str, object] = {}
        if f.status:
            params["status"] = f.status.value
        if f.helsefellesskap:
            params["helsefellesskap"] = f.helsefellesskap
        if f.mine:
            params["mine"] = 1
        if f.overdue:
            params["overdue"] = 1
        if self.per_page != PER_PAGE:
            params["per_page"] = self.per_page
        params["page"] = page
        return f"{path}?{urlencode(params)}"


def _number(params: Mapping[str, str], name: str, default: int, low: int, high: int, what: str) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ListQueryError(name, f"{what} må være et helt tall fra {low} til {high:,}".replace(",", " ") + f", ikke «{raw[:40]}»")
    return int(raw)


def _flag(params: Mapping[str, str], name: str, what: str) -> bool:
    raw = params.get(name, "").strip().lower()
    if raw not in FLAGS:
        raise ListQueryError(name, f"{what}: skriv 1 (ja) eller 0 (nei), ikke «{raw[:40]}»")
    return FLAGS[raw]


def parse(params: Mapping[str, str]) -> ListQuery:
    """Refuses a value it cannot read (ListQueryError); an unknown parameter is ignored, as a form's would be."""
    status_raw = params.get("status", "").strip()
    if status_raw and status_raw not in {s.value for s in RevisionStatus}:
        raise ListQueryError("status", f"status må være «active» (pågår) eller «completed» (fullført), ikke «{status_raw[:40]}»")
    helsefellesskap = params.get("helsefellesskap", "").strip() or None
    if helsefellesskap is not None and len(helsefellesskap) > 200:
        raise ListQueryError("helsefellesskap", "helsefellesskap: navnet er for langt (over 200 tegn)")
    filters = ListFilters(
        status=RevisionStatus(status_raw) if status_raw else None,
        helsefellesskap=helsefellesskap,
        mine=_flag(params, "mine", "«Trenger min handling»"),
        overdue=_flag(params, "overdue", "«Forsinket»"),
    )
    return ListQuery(
        filters,
        page=_number(params, "page", 1, 1, MAX_PAGE, "sidenummeret (page)"),
        per_page=_number(params, "per_page", PER_PAGE, 1, MAX_PER_PAGE, "antall per side (per_page)"),
    )
