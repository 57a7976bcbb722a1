"""Use cases shared by the web and the CLI.

Each takes a database session and plain values (and the acting viewer where access matters);
it flushes but never commits: the caller at the edge owns the transaction.
"""


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
