"""The web: pages, the JSON API and media files, all through the services and the access policy."""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.routing import IntegerConverter, Map

from archive.models import AccessLevel
from archive.web import accounts, admin, api, editing, files, pages
from archive.web import ranges, tags  # time-range tags and the tag vocabulary
from archive.web import vendor  # Leaflet from node_modules/, for the offline maps
from archive.web import transcripts  # captions, the transcript panel, exports and uploads
from archive.web import search  # full-text search pages
from archive.web import geo_editing  # archivists' forms for places, crossings, journeys, legs; the gaps report
from archive.web import geography  # journeys, places, countries, the map and their GeoJSON
from archive.web import records  # an item's PBCore and Dublin Core records
from archive.web import spreadsheets  # CSV downloads and the CSV import
from archive.web import exports  # admins' bags, made by the worker
from archive.web import iiif  # IIIF manifests, collections, content search and the viewer page
from archive.web.cors import answer_preflight
from archive.web import tokens  # every account's API tokens
from archive.web import oai  # the OAI-PMH endpoint for harvesters
from archive.web import stories  # a journey's offline classroom package
from archive.web import clips  # /id/<pid> links to a moment, citations, accounts' clip lists
from archive.web.auth import init_auth
from archive.web.errors import register_error_handlers
from archive.web.formatting import FILTERS, coordinates
from archive.web.links import derivative, holds_original, original_url, thumb_url, url_with


class IdConverter(IntegerConverter):
    """A database id in a URL: 1 up to the largest 32-bit integer, so a huge one is a 404, not an overflow."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=2**31 - 1)


def register(app: Flask) -> None:
    """Attach blueprints, template helpers and error handlers to `app`."""
    app.url_map.converters["id"] = IdConverter
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)  # /api/items..., as before /api/v1
    app.register_blueprint(api.v1)  # /api/v1: everything a researcher reads and an archivist changes
    app.register_blueprint(api.docs_bp)  # /api/openapi.json and /api/docs
    app.register_blueprint(files.bp)
    app.register_blueprint(ranges.bp)
    app.register_blueprint(tags.bp)
    app.register_blueprint(transcripts.bp)
    app.register_blueprint(admin.bp)  # trash, histories, audit log
    app.register_blueprint(accounts.bp)  # admins manage accounts and grants
    app.register_blueprint(editing.bp)  # forms, uploads and bulk edits for archivists
    app.register_blueprint(vendor.bp)
    app.register_blueprint(search.bp)  # full-text search: /search and /api/search
    app.register_blueprint(geo_editing.bp)
    app.register_blueprint(geography.bp)  # /journeys, /places, /countries, /map and their API
    app.register_blueprint(records.bp)  # /items/<id>.pbcore.xml and .dc.xml
    app.register_blueprint(spreadsheets.bp)  # /items.csv, /search.csv, /collections/<id>.csv, /import/csv
    app.register_blueprint(exports.bp)  # /admin/exports
    app.register_blueprint(iiif.bp)  # /iiif/...
    app.after_request(answer_preflight)  # CORS preflights of public items' routes (archive.web.cors)
    app.register_blueprint(tokens.bp)  # /account/tokens
    app.register_blueprint(oai.bp)  # /oai
    app.register_blueprint(stories.bp)  # /journeys/<id>/story.zip
    app.register_blueprint(clips.bp)  # /id/<pid>, /items/<id>/cite, /clips
    init_auth(app)
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals.update(thumb_url=thumb_url, original_url=original_url, holds_original=holds_original,
                                 derivative=derivative,
                                 url_with=url_with, coordinates=coordinates, AccessLevel=AccessLevel)
    register_error_handlers(app)

    @app.after_request
    def _no_sniffing(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
