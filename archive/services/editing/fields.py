"""Checks of the values people type into the catalogue, shared by every editing service."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Any, TypeVar

import pycountry

from archive.models import AccessLevel
from archive.services import Invalid

Changes = dict[str, tuple[Any, Any]]

TITLE_MAX = 500
NAME_MAX = 200  # people, tags, roles, creator, language, collection kind


class Keep(enum.Enum):
    """Type of KEEP, the default of a keyword that was not given (None may be a real value)."""
    KEEP = "keep"


KEEP = Keep.KEEP


class InvalidFields(Invalid):
    """Several refused values at once, {field: message}, so that a form can mark every one.

    It is an Invalid naming the first field, so callers that expect one message still work.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        field, message = next(iter(errors.items()))
        super().__init__(message, field)
        self.errors = dict(errors)


def field_errors(exc: Invalid, default: str = "form") -> dict[str, str]:
    """{field: message} of a refusal, whether it names one field or several."""
    if isinstance(exc, InvalidFields):
        return exc.errors
    return {exc.field or default: str(exc)}


def validated(checks: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run every check; return {field: value}, or raise InvalidFields with all the refusals."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field, check in checks.items():
        try:
            values[field] = check()
        except Invalid as exc:
            for name, message in field_errors(exc, field).items():
                errors.setdefault(name, message)
    if errors:
        raise InvalidFields(errors)
    return values


def text(value: str, field: str, *, limit: int | None = None, required: bool = False) -> str:
    label = field.replace("_", " ")
    if not isinstance(value, str):
        raise Invalid(f"{label} must be text", field)
    # Browsers send a textarea's line breaks as CRLF: without this, saving a form untouched
    # would record every multi-line field as changed.
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if required and not value:
        raise Invalid(f"{label} may not be empty", field)
    if limit is not None and len(value) > limit:
        raise Invalid(f"{label} is longer than {limit} characters", field)
    return value


def name(value: str, field: str) -> str:
    """A one-line name: trimmed, inner whitespace collapsed, not empty, at most NAME_MAX characters."""
    return text(" ".join(value.split()) if isinstance(value, str) else value, field, limit=NAME_MAX,
                required=True)


def tag_names(names: list[str] | tuple[str, ...], field: str = "tags") -> list[str]:
    """Tag names trimmed, with duplicates (ignoring case) dropped; the first spelling wins."""
    cleaned: dict[str, str] = {}
    for raw in names:
        tag = name(raw, field)
        cleaned.setdefault(tag.lower(), tag)
    return list(cleaned.values())


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")


def languages(value: str) -> str:
    """Comma-separated BCP 47 tags whose primary language ISO 639 knows, e.g. "ko, en"."""
    tags = [t.strip() for t in text(value, "language", limit=NAME_MAX).split(",") if t.strip()]
    for tag in tags:
        primary = tag.split("-")[0].lower()
        known = (pycountry.languages.get(alpha_2=primary) if len(primary) == 2
                 else pycountry.languages.get(alpha_3=primary))
        if not _LANGUAGE_TAG.fullmatch(tag) or known is None:
            raise Invalid(f"{tag!r} is not a language tag (BCP 47, e.g. ko, en, zh-Hans)", "language")
    return ", ".join(dict.fromkeys(tags))


Choice = TypeVar("Choice", bound=enum.Enum)


def choice(kind: type[Choice], value: Choice | str, field: str, *, default: Choice | None = None) -> Choice:
    """A member of the enum `kind`, given as itself or as its value; an empty value is `default`
    when there is one. Invalid lists the values to choose from."""
    try:
        return kind(value or default if default is not None else value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise Invalid(f"{field.replace('_', ' ')} must be one of {choices}, not {value!r}", field) from None


def access(value: AccessLevel | str, field: str = "access") -> AccessLevel:
    return choice(AccessLevel, value, field)


def apply_changes(row: Any, values: dict[str, Any]) -> Changes:
    """Set the attributes of `row` that `values` changes; return {name: (old, new)} of those."""
    changes = {name: (getattr(row, name), value) for name, value in values.items() if getattr(row, name) != value}
    for name, (_, value) in changes.items():
        setattr(row, name, value)
    return changes


def whole_number(value: int | str | None, field: str, *, minimum: int = 1,
                 maximum: int = 2**31 - 1) -> int | None:
    """An optional whole number, given as a number or as the text of a form field ("" is none)."""
    if isinstance(value, str):
        raw = value.strip()
        if not raw:
            return None
        if not raw.isascii() or not raw.lstrip("-").isdigit():
            raise Invalid(f"{field.replace('_', ' ')} must be a whole number, not {raw!r}", field)
        value = int(raw)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise Invalid(f"{field.replace('_', ' ')} must be a whole number from {minimum} to {maximum}, "
                      f"not {value!r}", field)
    return value


def year(value: int | str | None) -> int | None:
    return whole_number(value, "year", maximum=9999)
