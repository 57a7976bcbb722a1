"""How an /api/v1 route is declared: one decorator that registers the Flask view and its OpenAPI operation.

The same pydantic models validate the query and the body of a request and make its answer, and
the OpenAPI document (archive.web.api.openapi) is written from the declarations kept here, so the
schema cannot say something the code does not do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, Response, request
from pydantic import BaseModel, ValidationError

from archive.access import Role, may_edit
from archive.web.context import current_viewer
from archive.web.errors import error_body

v1 = Blueprint("api_v1", __name__, url_prefix="/api/v1")

#: The statuses every operation may answer with an error body (401: a token that is wrong or expired),
#: and those of writes (403: a read-only token), bodies and versioned records.
COMMON_ERRORS = (400, 401, 404, 405)
WRITE_ERRORS = (403, 409)
VERSIONED_ERRORS = (412,)
BODY_ERRORS = (413, 415)


class ApiError(Exception):
    """An answer in the API's error shape: a status, a code, a message and the field it is about."""

    def __init__(self, status: int, message: str, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field, self.code = status, message, field, code


@v1.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return json_response(error_body(exc.status, exc.message, exc.field, exc.code), exc.status)


@dataclass
class Operation:
    """One method on one path, as the OpenAPI document describes it."""
    method: str
    rule: str  #: the Flask rule under /api/v1, e.g. /items/<id:item_id>
    endpoint: str
    summary: str
    description: str
    tag: str
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    #: "json", or the media type of a raw body (a file) the view reads itself.
    body_kind: str
    response: type[BaseModel] | None
    status: int
    writes: bool
    versioned: bool
    errors: tuple[int, ...] = field(default_factory=tuple)
    #: Headers the answer carries besides Content-Type: name -> description.
    headers: dict[str, str] = field(default_factory=dict)
    #: Headers the request may carry: name -> (description, required).
    request_headers: dict[str, tuple[str, bool]] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The OpenAPI path: /api/v1/items/{item_id}."""
        return "/api/v1" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.rule)

    @property
    def path_parameters(self) -> list[tuple[str, str]]:
        """(name, converter) of the path's values: "id" for database ids, "string" for tokens."""
        return [(name, converter or "string") for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", self.rule)]


OPERATIONS: list[Operation] = []


def json_response(body: Any, status: int = 200, *, etag: int | None = None) -> Response:
    import json
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")
    if etag is not None:
        response.set_etag(str(etag))
    # What an API answer holds depends on who asks; no shared cache may keep it.
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("Cookie", "Authorization"))
    return response


def reply(model: BaseModel | None, status: int = 200, *, etag: int | None = None) -> Response:
    """The answer of an operation: its model as JSON (None: 204, no body), with the record's version as ETag."""
    if model is None:
        response = Response(status=204)
        if etag is not None:
            response.set_etag(str(etag))
        return response
    return json_response(model.model_dump(mode="json"), status, etag=etag)


def validation_error(exc: ValidationError, where: str) -> ApiError:
    """The first refusal of a pydantic check, naming its field: `where` is "query" or "body"."""
    first = exc.errors(include_url=False)[0]
    name = ".".join(str(part) for part in first["loc"]) or where
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = f"{name} is not a field of this {where}"
    elif first["type"] == "missing":
        message = f"{name} is required"
    else:
        message = f"{name}: {message[:1].lower() + message[1:]}"
    return ApiError(400, message, name)


def _parse_query(model: type[BaseModel]) -> BaseModel:
    given = {name: request.args.getlist(name) if _is_list(model, name) else request.args[name]
             for name in request.args}
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        raise validation_error(exc, "query") from None


def _is_list(model: type[BaseModel], name: str) -> bool:
    info = model.model_fields.get(name)
    return info is not None and getattr(info.annotation, "__origin__", None) is list


def _parse_body(model: type[BaseModel]) -> BaseModel:
    if request.mimetype != "application/json":
        raise ApiError(415, "send the body as JSON (Content-Type: application/json)", "body")
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "the body is not valid JSON", "body")
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object", "body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, "body") from None


def require_writer(*, admins: bool = False) -> None:
    """Writes are for archivists and admins (`admins`: admins only): the anonymous are asked to log in
    (401), other accounts find nothing here (404, as the web's editing pages answer them)."""
    viewer = current_viewer()
    if viewer.is_anonymous:
        raise ApiError(401, "log in, or send a token (Authorization: Bearer ...), to change the archive")
    if not may_edit(viewer) or (admins and viewer.role is not Role.admin):
        raise ApiError(404, "there is nothing at this address")


IF_MATCH = ("The ETag of the version the change was made from; when the record has been saved since, "
            "the change is refused with 412. Without it, the change is made whatever the version.", False)
_ETAG = re.compile(r'\s*(?:W/)?"(\d{1,10})"\s*')


def expected_version() -> int | None:
    """The version If-Match names (None: no If-Match, or "*"); 400 for a header that names none."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    match = _ETAG.fullmatch(raw)
    if match is None:
        raise ApiError(400, 'If-Match must be one ETag this API gave, such as "3"', "If-Match")
    return int(match.group(1))


def operation(method: str, rule: str, *, summary: str, tag: str, response: type[BaseModel] | None,
              query: type[BaseModel] | None = None, body: type[BaseModel] | None = None, body_kind: str = "json",
              status: int = 200, writes: bool = False, versioned: bool = False, errors: tuple[int, ...] = (),
              headers: dict[str, str] | None = None, admins: bool = False,
              find: Callable[..., object] | None = None,
              request_headers: dict[str, tuple[str, bool]] | None = None) -> Callable[[Callable[..., Response]],
                                                                                       Callable[..., Response]]:
    """Declare an /api/v1 operation. The view gets its path values, `query=` and `body=` (parsed
    models) when declared, and returns reply(...). `writes` admits archivists and admins only;
    `versioned` documents If-Match (the view passes expected_version() to its service) and the
    ETag of the answer. `find(**path)` looks up the object of the path first (NotFound: 404), so that
    what the viewer may not see is absent whatever the request's query and body hold."""
    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        all_errors = COMMON_ERRORS + (WRITE_ERRORS if writes else ()) + (VERSIONED_ERRORS if versioned else ()) \
            + (BODY_ERRORS if body is not None or body_kind != "json" else ()) + errors
        answer_headers = dict(headers or {})
        wanted_headers = dict(request_headers or {})
        if versioned:
            answer_headers.setdefault("ETag", "The record's version: send it back as If-Match to change it safely.")
            if method in ("PATCH", "PUT", "DELETE"):
                wanted_headers["If-Match"] = IF_MATCH
        OPERATIONS.append(Operation(method, rule, view.__name__, summary, (view.__doc__ or "").strip(), tag, query,
                                    body, body_kind, response, status, writes, versioned,
                                    tuple(sorted(set(all_errors))), answer_headers, wanted_headers))

        @wraps(view)
        def handle(**path: Any) -> Response:
            if writes:
                require_writer(admins=admins)
            if find is not None:
                find(**path)
            kwargs: dict[str, Any] = dict(path)
            if query is not None:
                kwargs["query"] = _parse_query(query)
            if body is not None:
                kwargs["body"] = _parse_body(body)
            return view(**kwargs)

        v1.add_url_rule(rule, endpoint=view.__name__, view_func=handle, methods=[method])
        return handle
    return decorate
