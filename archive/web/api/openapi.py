"""The OpenAPI 3.1 document of /api/v1, written from the operations' declarations and pydantic models,
served at /api/openapi.json, and a page that reads it (/api/docs)."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Blueprint, Response, render_template
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from archive.services.catalogue import MAX_PARAMETER
from archive.web.api.models import Error
from archive.web.api.operations import OPERATIONS, Operation, json_response
from archive.web.errors import TITLES

bp = Blueprint("api_docs", __name__, url_prefix="/api")

REF = "#/components/schemas/{model}"
DESCRIPTIONS = {**TITLES, 200: "OK", 201: "Created", 204: "Done; no body", 409: "Conflict with the catalogue",
                412: "Changed since the version given in If-Match", 415: "Unsupported body type",
                401: "Log in, or send a token", 403: "Not allowed with this token"}


def _strip_null_defaults(schema: Any) -> Any:
    """A field that may be left out but not sent as null has default None in pydantic; the schema
    should not offer null as its default."""
    if isinstance(schema, dict):
        if schema.get("default", 0) is None and not _allows_null(schema):
            schema = {k: v for k, v in schema.items() if k != "default"}
        return {k: _strip_null_defaults(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_strip_null_defaults(v) for v in schema]
    return schema


def _allows_null(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(s.get("type") == "null" for s in schema.get("anyOf", ()))


def _models() -> list[tuple[type[BaseModel], str]]:
    wanted: list[tuple[type[BaseModel], str]] = [(Error, "serialization")]
    for op in OPERATIONS:
        for model, mode in ((op.query, "validation"), (op.body, "validation"), (op.response, "serialization")):
            if model is not None and (model, mode) not in wanted:
                wanted.append((model, mode))  # type: ignore[arg-type]
    return wanted


def _parameters(op: Operation, schemas: dict[str, Any], refs: dict[Any, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PARAMETER} if converter == "id"
         else {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}} for name, converter in op.path_parameters]
    if op.query is not None:
        schema = schemas[refs[(op.query, "validation")]["$ref"].rsplit("/", 1)[1]]
        required = set(schema.get("required", ()))
        for name, prop in schema.get("properties", {}).items():
            param = {"name": name, "in": "query", "required": name in required,
                     "schema": {k: v for k, v in prop.items() if k not in ("title", "description")}}
            if "description" in prop:
                param["description"] = prop["description"]
            params.append(param)
    for name, (description, required) in op.request_headers.items():
        pattern = r'^(\*|"\d{1,10}")$' if name == "If-Match" else r"^\d{1,15}$"
        params.append({"name": name, "in": "header", "required": required, "description": description,
                       "schema": {"type": "string", "pattern": pattern}})
    return params


def _operation(op: Operation, schemas: dict[str, Any], refs: dict[Any, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": DESCRIPTIONS.get(op.status, "OK")}
    if op.response is not None:
        answer["content"] = {"application/json": {"schema": refs[(op.response, "serialization")]}}
    if op.headers:
        answer["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                             for name, text in op.headers.items()}
    responses: dict[str, Any] = {str(op.status): answer}
    for status in op.errors:
        responses[str(status)] = {"description": DESCRIPTIONS.get(status, "Error"),
                                  "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
    out: dict[str, Any] = {"operationId": op.endpoint, "summary": op.summary, "tags": [op.tag],
                           "parameters": _parameters(op, schemas, refs), "responses": responses}
    if op.description:
        out["description"] = op.description
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": refs[(op.body, "validation")]}}}
    elif op.body_kind != "json":
        out["requestBody"] = {"required": True, "content": {
            op.body_kind: {"schema": {"type": "string", "format": "binary"}}}}
    # Reads are open to all (each sees what they may), writes need an account with the role.
    out["security"] = [{"bearer": []}, {"cookie": []}] + ([] if op.writes else [{}])
    return out


@cache
def openapi_document() -> dict[str, Any]:
    """The whole document; made once per process (the operations are declared at import)."""
    refs, defs = models_json_schema(_models(), ref_template=REF)  # type: ignore[arg-type]
    schemas = _strip_null_defaults(defs.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, schemas, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Crossings API", "version": "1",
                 "description": "The archive's catalogue, transcripts, places and journeys: everything a "
                                "researcher may read and an archivist may change (docs/api.md)."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "An API token."},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "session",
                       "description": "A browser's login; its writes need the X-CSRFToken header."}}},
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    return json_response(openapi_document())


@bp.get("/docs")
def docs() -> str:
    """The API's reference page, made from the same document (no script: the CSP allows none inline)."""
    return render_template("api_docs.html", doc=openapi_document())
