"""Error pages: the service layer's NotFound and Invalid, HTTP errors and crashes.

Under /api the answer is JSON `{"error": {"code": ..., "message": ..., "field": ...}}` (docs/api.md);
elsewhere a readable page.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from archive.services import Invalid, NotFound, Stale, StaleBatch
from archive.web.context import current_viewer

TITLES = {
    400: "Bad request",
    401: "Log in first",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    416: "Range not satisfiable",
    500: "Something went wrong",
}
#: The API's error codes, by status: what a script branches on (the message is for people).
CODES = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         406: "not_acceptable", 409: "conflict", 411: "length_required", 412: "precondition_failed",
         413: "too_large", 415: "unsupported_media_type", 416: "range_not_satisfiable", 500: "internal_error"}


def error_body(status: int, message: str, field: str | None = None, code: str | None = None) -> dict[str, object]:
    """The one error shape of every /api route."""
    return {"error": {"code": code or CODES.get(status, "error"), "message": message, "field": field}}


def wants_json() -> bool:
    """The API, and IIIF's JSON-LD (all of /iiif/ but the viewer's page), answer errors in JSON."""
    if request.path.startswith("/iiif/"):
        return not request.path.endswith("/viewer")
    return request.path == "/api" or request.path.startswith("/api/")


def error_response(status: int, message: str, field: str | None = None,
                   code: str | None = None) -> tuple[str | Response, int]:
    if wants_json():
        return jsonify(error_body(status, message, field, code)), status
    title = TITLES.get(status, "Error")
    return render_template("error.html", status=status, title=title, message=message), status


def _not_found(exc: NotFound) -> ResponseReturnValue:
    return error_response(404, f"Not found: {exc}.")


def _invalid(exc: Invalid) -> ResponseReturnValue:
    if isinstance(exc, (Stale, StaleBatch)) and wants_json():
        # Only the API names the version it was given (If-Match); the forms answer these themselves.
        return error_response(412, str(exc), exc.field)
    return error_response(400, str(exc), exc.field)


def _http(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    if status == 404:
        message = "There is nothing at this address."
    elif status == 405:
        message = f"{request.method} is not allowed here."
    elif status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        message = f"The upload is larger than this archive accepts ({limit / 1024**3:.1f} GiB at most); " \
                  "send fewer files at a time, or ingest them with the crossings ingest command."
    elif status == 416:
        message = "The requested range is not within the file."
    else:
        message = exc.description or TITLES.get(status, "Error")
    body, code = error_response(status, message)
    # Keep what the exception says beyond its body: Allow on a 405, Content-Range on a 416.
    headers = [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]
    return body, code, headers


def _csrf(exc: CSRFError) -> ResponseReturnValue:
    # A script's write under /api without a login or a token is refused for that, not for the CSRF
    # token it had no way of having: 401 says what to do.
    if wants_json() and current_viewer().is_anonymous:
        return error_response(401, "log in, or send a token (Authorization: Bearer ...), to change the archive")
    return _http(exc)


def _crash(_exc: InternalServerError) -> ResponseReturnValue:
    # Flask has already logged the traceback; the visitor gets no details.
    return error_response(500, "The archive could not answer this request. The error has been logged.")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(Invalid, _invalid)
    app.register_error_handler(InternalServerError, _crash)
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(HTTPException, _http)
