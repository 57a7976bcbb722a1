"""Shapes shared by every /api/v1 route: the error, a page of results, text without NUL characters."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from archive.services.catalogue import MAX_PARAMETER

#: Text a client sends: any characters but NUL, which PostgreSQL cannot store.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
#: A database id, as the routes' <id:...> converter accepts it.
Id = Annotated[int, Field(ge=1, le=MAX_PARAMETER)]


class Body(BaseModel):
    """A request body: a field this API does not know is refused (400), not ignored."""
    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """A query string: unknown parameters are refused too, so a misspelt filter does not silently match all."""
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    code: str = Field(description="What went wrong, for scripts: invalid, not_found, precondition_failed...")
    message: str = Field(description="The same in words, for people.")
    field: str | None = Field(description="The parameter, header or body field it is about, if one.")


class Error(BaseModel):
    """Every error of every /api route."""
    error: ErrorDetail


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a listing; `next` is the URL of the following page, null on the last."""
    items: list[T]
    total: int = Field(ge=0, description="How many there are on all pages.")
    page: int = Field(ge=1)
    per_page: int = Field(ge=1)
    next: str | None


def next_page_url(page: int, per_page: int, total: int) -> str | None:
    """The request's URL with page+1, or None when this page is the last."""
    if page * per_page >= total:
        return None
    args = request.args.to_dict(flat=False)
    args["page"] = [str(page + 1)]
    from urllib.parse import urlencode
    return f"{request.base_url}?{urlencode(args, doseq=True)}"


class PageQuery(Query):
    page: Id = 1
    per_page: int | None = Field(None, ge=1, le=MAX_PARAMETER,
                                 description="At most the archive's max_per_page; larger asks are cut to it.")


def page_size(query: PageQuery) -> int:
    """The page size asked for, within the archive's max_per_page (larger asks are cut, not refused)."""
    from archive.web.context import current_archive
    settings = current_archive().settings
    return min(query.per_page or settings["per_page"], settings["max_per_page"])


def page_of(rows: list[T], query: PageQuery) -> dict[str, object]:
    """One page of a listing the services give whole (places, journeys, tags...), in the shape of Page."""
    per_page = page_size(query)
    start = (query.page - 1) * per_page
    return {"items": rows[start:start + per_page], "total": len(rows), "page": query.page, "per_page": per_page,
            "next": next_page_url(query.page, per_page, len(rows))}
