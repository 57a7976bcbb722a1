"""Use cases shared by the web and the CLI.

Each takes a database session and plain values (and the acting viewer where access matters);
it flushes but never commits: the caller at the edge owns the transaction.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm.exc import StaleDataError


def counted(n: int, noun: str) -> str:
    """"1 item", "3 items": a count and a noun that takes an s in the plural."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


class Paginated:
    """A page of results: its dataclass gives `total` and `per_page`, this gives the number of pages."""
    total: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class NotFound(LookupError):
    """The object does not exist, or the viewer may not know that it exists."""


class Invalid(ValueError):
    """A value was refused; `field` names it so that forms can show the message beside it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Stale(Invalid):
    """A save made from a form of `version` of an object that has been saved since: refused, so
    that it does not overwrite what the other save changed (the edge asks the audit trail what)."""

    def __init__(self, object_type: str, object_id: int, version: int) -> None:
        super().__init__(f"this {object_type} was changed by someone else after you opened it", "version")
        self.object_type, self.object_id, self.version = object_type, object_id, version


class StaleBatch(Invalid):
    """A change of many objects refused because some were saved since the form was shown: `stale`
    names each (nothing is changed)."""

    def __init__(self, stale: list[Stale]) -> None:
        super().__init__(f"{counted(len(stale), stale[0].object_type)} changed by someone else after you "
                         "opened the page", "version")
        self.stale = stale


def touch(row: Any) -> None:
    """Have the next flush UPDATE `row` so that its version moves: a change to its links alone
    (tags, places, legs, time ranges) writes no column of its row, and a form of the old version
    would then not be found stale. Set in the flush that makes the change, so that its audit
    entry records the new version."""
    state = inspect(row)
    if state.persistent and not state.attrs.version.history.has_changes():
        row.version = row.version + 1  # what version_id_col would set; its UPDATE checks the old one


def version_number(value: int | str | None) -> int | None:
    """The version a form was filled from; None (or "") for none given."""
    if value in (None, ""):
        return None
    raw = str(value).strip()
    if not (raw.isascii() and raw.isdigit()):
        raise Invalid(f"version must be a whole number, not {raw!r}", "version")
    return int(raw)


@contextmanager
def saving_version(row: Any, object_type: str, expected_version: int | str | None) -> Iterator[None]:
    """Refuse (Stale) to save `row` from a form of another version than its own; inside the block,
    an UPDATE that finds the row saved meanwhile (StaleDataError) is refused the same way.
    None (or "") checks nothing: a caller that read the row in the same transaction."""
    # Read now: after a failed flush the row's attributes cannot be loaded.
    row_id, loaded = row.id, row.version
    expected = version_number(expected_version)
    if expected is not None and loaded != expected:
        raise Stale(object_type, row_id, expected)
    try:
        yield
    except StaleDataError:
        raise Stale(object_type, row_id, loaded) from None
