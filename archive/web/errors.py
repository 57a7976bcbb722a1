"""Error pages: the service layer's NotFound and Invalid, HTTP errors and crashes.

Under /api the answer is JSON `{"error": "..."}`; elsewhere a readable page.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, InternalServerError

from archive.services import Invalid, NotFound

TITLES = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    416: "Range not satisfiable",
    500: "Something went wrong",
}


def wants_json() -> bool:
    """The API, and IIIF's JSON-LD (all of /iiif/ but the viewer's page), answer errors in JSON."""
    if request.path.startswith("/iiif/"):
        return not request.path.endswith("/viewer")
    return request.path == "/api" or request.path.startswith("/api/")


def error_response(status: int, message: str) -> tuple[str | Response, int]:
    if wants_json():
        return jsonify(error=message), status
    title = TITLES.get(status, "Error")
    return render_template("error.html", status=status, title=title, message=message), status


def _not_found(exc: NotFound) -> ResponseReturnValue:
    return error_response(404, f"Not found: {exc}.")


def _invalid(exc: Invalid) -> ResponseReturnValue:
    return error_response(400, str(exc))


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


def _crash(_exc: InternalServerError) -> ResponseReturnValue:
    # Flask has already logged the traceback; the visitor gets no details.
    return error_response(500, "The archive could not answer this request. The error has been logged.")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(Invalid, _invalid)
    app.register_error_handler(InternalServerError, _crash)
    app.register_error_handler(HTTPException, _http)
