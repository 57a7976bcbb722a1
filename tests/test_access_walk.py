"""Every route of the app, for every role and every access level: who may see what.

The walk reads the app's URL map. A route this module does not know fails it, so nobody can add
a path without saying who may reach it. Expectations are written out here, not derived from
archive.access, so a mistake in the policy itself shows up too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from archive.core import Archive
from archive.models import AccessLevel, AuditEntry, Collection, Item, ItemKind, Segment, Tag, TimeRange, Transcript
from conftest import BACKENDS, csrf_token, log_in, new_catalogue
from test_web import add_item

LEVELS = ("public", "restricted", "conf_granted", "conf_other", "trashed")
#: Which items each kind of viewer may know exist. Trashed items: nobody, on these routes.
MAY_SEE: dict[str, set[str]] = {
    "anonymous": {"public"},
    "researcher": {"public", "restricted"},
    "archivist": {"public", "restricted"},
    "archivist_granted": {"public", "restricted", "conf_granted"},
    "admin": {"public", "restricted", "conf_granted", "conf_other"},
}
EDITORS = {"archivist", "archivist_granted", "admin"}
ADMINS = {"admin"}
#: Which places each viewer may know exist: their own rule, confidential to editors whatever their grants.
#: A place at level "trashed" was deleted. Places are named SITE-<level>-place.
PLACE_MAY_SEE: dict[str, set[str]] = {
    "anonymous": {"public"},
    "researcher": {"public", "restricted"},
    "archivist": {"public", "restricted", "conf_granted", "conf_other"},
    "archivist_granted": {"public", "restricted", "conf_granted", "conf_other"},
    "admin": {"public", "restricted", "conf_granted", "conf_other"},
}
#: The exact position of the public place, published to about 10 km: no body a non-editor gets may hold it.
EXACT_POSITION = ("12.345678", "98.765432")


@dataclass(frozen=True)
class Route:
    """How to reach a route and who may.

    scope: "open" (anyone; the body must still hide what the viewer may not see), "item" (one
    item: 404 unless the viewer may see it), "collection", "credit", "person", "range", "tag" and
    "transcript" (known only through the items they belong to), "static", or "none" (no one object).
    who: the viewers allowed at all (others: anonymous → login redirect, accounts → 404).
    Admin-only routes may show admins everything, trashed items included.
    """
    scope: str
    who: frozenset[str] = frozenset(MAY_SEE)
    values: dict[str, Any] = field(default_factory=dict)
    ok: frozenset[int] = frozenset({200})


EDIT = frozenset(EDITORS)
ADMIN = frozenset(ADMINS)
ACCOUNTS = frozenset(MAY_SEE) - {"anonymous"}
ROUTES: dict[str, Route] = {
    # reading
    "pages.home": Route("open"),
    "pages.browse": Route("open"),
    "pages.recently_added": Route("open"),
    "pages.item": Route("item"),
    "pages.collection": Route("collection"),
    "pages.about": Route("open"),
    "api.items": Route("open"),
    "api.item": Route("item"),
    "records.pbcore": Route("item"),
    "records.dublin_core": Route("item"),
    "files.original": Route("item"),
    "files.proxy": Route("item"),
    "files.access_copy": Route("item"),
    "files.thumbnail": Route("item", values={"kind": "grid"}),
    "tags.index": Route("open"),
    "transcripts.export": Route("transcript", values={"fmt": "vtt"}),
    "search.page": Route("open", values={"q": "MARK"}),
    "search.api": Route("open", values={"q": "MARK"}),
    "static": Route("static", values={"filename": "crossings.css"}),
    "vendor.leaflet": Route("static", values={"filename": "leaflet.js"}),
    "geography.journeys": Route("open"),
    "geography.journey": Route("journey"),
    "geography.api_journey": Route("journey"),
    "geography.api_journey_geojson": Route("journey"),
    # the offline package is the anonymous view, so only a public journey has one: 404 for the others
    "stories.download": Route("journey", ok=frozenset({200, 404})),
    "geography.places_map": Route("open"),
    "geography.api_places_geojson": Route("open"),
    "geography.place": Route("place"),
    "geography.api_place": Route("place"),
    "geography.country": Route("open", values={"code": "th"}),
    # accounts
    "auth.login": Route("none"),
    "auth.logout": Route("none", ok=frozenset({302})),
    "auth.change_password": Route("none", who=frozenset(MAY_SEE) - {"anonymous"}),
    # every account's own API tokens; no token has that id, so its revoke is a 404 for all (test_api_tokens.py)
    "tokens.index": Route("none", who=frozenset(MAY_SEE) - {"anonymous"}, ok=frozenset({200, 400})),
    "tokens.revoke": Route("none", who=frozenset(MAY_SEE) - {"anonymous"}, values={"token_id": 999999},
                           ok=frozenset({404})),
    # editing
    "edit.edit_item": Route("item", who=EDIT),
    "edit.credit_item": Route("item", who=EDIT),
    "edit.bulk_edit": Route("none", who=EDIT),
    "edit.new_collection": Route("none", who=EDIT),
    "edit.edit_collection": Route("collection", who=EDIT),
    "edit.credit_collection": Route("collection", who=EDIT),
    "edit.remove_credit": Route("credit", who=EDIT),
    "edit.move_credit": Route("credit", who=EDIT),
    "edit.people": Route("none", who=EDIT),
    "edit.edit_person": Route("person", who=EDIT),
    "edit.delete_person": Route("person", who=EDIT),
    "edit.upload": Route("none", who=EDIT),
    "ranges.add": Route("item", who=EDIT),
    "ranges.edit": Route("range", who=EDIT),
    "ranges.delete": Route("range", who=EDIT),
    "transcripts.upload": Route("item", who=EDIT),
    "transcripts.delete": Route("transcript", who=EDIT),
    # an account's pair of transcripts side by side (docs/transcripts.md); posted without one: 400
    "transcripts.choose_pair": Route("item", who=ACCOUNTS, ok=frozenset({400})),
    "tags.edit": Route("tag", who=EDIT),
    "tags.rename": Route("tag", who=EDIT),
    "tags.parent": Route("tag", who=EDIT),
    "tags.merge": Route("tag", who=EDIT),
    "tags.delete": Route("tag", who=EDIT),
    "admin.delete_item": Route("item", who=EDIT),
    # administration
    "admin.trash_page": Route("none", who=ADMIN),
    "admin.fixity": Route("none", who=ADMIN),
    "exports.exports_page": Route("none", who=ADMIN),
    "exports.queue_export": Route("none", who=ADMIN),
    # no export has that id: even admins get 404 (tests/test_bags.py downloads a real one)
    "exports.download_bag": Route("none", who=ADMIN, values={"job_id": 999999}, ok=frozenset({404})),
    "admin.restore": Route("none", who=ADMIN),
    "admin.empty": Route("none", who=ADMIN),
    "admin.log": Route("none", who=ADMIN),
    "admin.log_csv": Route("none", who=ADMIN),
    # accounts (admins): the walk's posts act on the researcher, who has no grant to revoke
    "accounts.index": Route("none", who=ADMIN),
    "accounts.create": Route("none", who=ADMIN, ok=frozenset({201, 400})),
    "accounts.account": Route("none", who=ADMIN, values={"username": "researcher"}),
    "accounts.role": Route("none", who=ADMIN, values={"username": "researcher"}),
    "accounts.activity": Route("none", who=ADMIN, values={"username": "researcher"}),
    "accounts.reset_password": Route("none", who=ADMIN, values={"username": "researcher"}),
    "accounts.grant": Route("none", who=ADMIN, values={"username": "researcher"}),
    "accounts.revoke": Route("none", who=ADMIN, values={"username": "archivist_granted", "collection_id": 1}),
    # geography editing (archivists and admins)
    "geo_edit.index": Route("none", who=EDIT),
    "geo_edit.place_suggestions": Route("none", who=EDIT),
    "geo_edit.new_place": Route("none", who=EDIT),
    "geo_edit.edit_place": Route("place", who=EDIT),
    "geo_edit.delete_place": Route("place", who=EDIT),
    "geo_edit.new_crossing": Route("none", who=EDIT),
    "geo_edit.edit_crossing": Route("crossing", who=EDIT),
    "geo_edit.delete_crossing": Route("crossing", who=EDIT),
    "geo_edit.new_journey": Route("none", who=EDIT),
    "geo_edit.edit_journey": Route("journey", who=EDIT),
    "geo_edit.delete_journey": Route("journey", who=EDIT),
    "geo_edit.add_leg": Route("journey", who=EDIT),
    "geo_edit.edit_leg": Route("leg", who=EDIT),
    "geo_edit.delete_leg": Route("leg", who=EDIT),
    "geo_edit.move_leg": Route("leg", who=EDIT),
    "geo_edit.gaps_page": Route("none", who=EDIT),
    "geo_edit.item_geography": Route("item", who=EDIT),
    "geo_edit.link_item_place": Route("item", who=EDIT),
    "geo_edit.range_geography": Route("range", who=EDIT),
    # spreadsheets: downloads for everyone (what they may see), the import for archivists and admins
    "spreadsheets.items_csv": Route("open"),
    "spreadsheets.search_csv": Route("open", values={"q": "MARK"}),
    "spreadsheets.collection_csv": Route("collection"),
    "spreadsheets.import_form": Route("none", who=EDIT),
    "spreadsheets.import_apply": Route("none", who=EDIT, ok=frozenset({400})),
    # /api/v1 (docs/api.md): anonymous writers get 401 rather than a login page; a walk's form post is
    # refused by the write routes that take JSON (415) or a query (400) once the object is found
    "api_docs.openapi": Route("none"),
    "api_docs.docs": Route("none"),
    "api_v1.items": Route("open"),
    "api_v1.item": Route("item"),
    "api_v1.edit_item": Route("item", who=EDIT),
    "api_v1.trash_item": Route("item", who=EDIT),
    "api_v1.bulk_edit": Route("none", who=EDIT, ok=frozenset({415})),
    "api_v1.collections": Route("open"),
    "api_v1.tags": Route("open"),
    "api_v1.edit_tag": Route("tag", who=EDIT),
    "api_v1.merge_tag": Route("tag", who=EDIT, ok=frozenset({415})),
    "api_v1.delete_tag": Route("tag", who=EDIT),
    "api_v1.trash_list": Route("none", who=ADMIN),
    "api_v1.restore": Route("none", who=ADMIN, ok=frozenset({415})),
    "api_v1.transcripts": Route("item"),
    "api_v1.upload_transcript": Route("item", who=EDIT, ok=frozenset({400})),
    "api_v1.remove_transcript": Route("transcript", who=EDIT),
    "api_v1.ranges": Route("item"),
    "api_v1.add_range": Route("item", who=EDIT, ok=frozenset({415})),
    "api_v1.edit_range": Route("range", who=EDIT),
    "api_v1.delete_range": Route("range", who=EDIT),
    "api_v1.list_places": Route("open"),
    "api_v1.get_place": Route("place"),
    "api_v1.create_place": Route("none", who=EDIT, ok=frozenset({415})),
    "api_v1.edit_place": Route("place", who=EDIT),
    "api_v1.delete_place": Route("place", who=EDIT),
    "api_v1.list_crossings": Route("open"),
    "api_v1.get_crossing": Route("crossing"),
    "api_v1.create_crossing": Route("none", who=EDIT, ok=frozenset({415})),
    "api_v1.edit_crossing": Route("crossing", who=EDIT),
    "api_v1.delete_crossing": Route("crossing", who=EDIT),
    "api_v1.list_journeys": Route("open"),
    "api_v1.get_journey": Route("journey"),
    "api_v1.create_journey": Route("none", who=EDIT, ok=frozenset({415})),
    "api_v1.edit_journey": Route("journey", who=EDIT),
    "api_v1.delete_journey": Route("journey", who=EDIT),
    "api_v1.add_leg": Route("journey", who=EDIT, ok=frozenset({415})),
    "api_v1.edit_leg": Route("leg", who=EDIT),
    "api_v1.delete_leg": Route("leg", who=EDIT),
    "api_v1.search": Route("open", values={"q": "MARK"}),
    "api_v1.upload": Route("none", who=EDIT, ok=frozenset({400})),
    "api_v1.start_upload": Route("none", who=EDIT, ok=frozenset({415})),
    # no upload has that token: even editors get 404 (tests/test_api_uploads.py makes real ones)
    "api_v1.upload_status": Route("none", who=EDIT, values={"token": "nosuchupload"}, ok=frozenset({404})),
    "api_v1.send_chunk": Route("none", who=EDIT, values={"token": "nosuchupload"}, ok=frozenset({404})),
    "api_v1.finish_upload": Route("none", who=EDIT, values={"token": "nosuchupload"}, ok=frozenset({404})),
    "api_v1.abandon_upload": Route("none", who=EDIT, values={"token": "nosuchupload"}, ok=frozenset({404})),
    # IIIF: an item's manifest, its content search and viewer page; collections and journeys as IIIF Collections
    "iiif.manifest": Route("item"),
    "iiif.search": Route("item", values={"q": "MARK"}),
    "iiif.viewer": Route("item"),
    "iiif.collection": Route("collection"),
    "iiif.collections": Route("open"),
    "iiif.journey": Route("journey"),
    "vendor.mirador": Route("static", values={"filename": "mirador.min.js"}),
    # OAI-PMH for harvesters: the anonymous visitor's archive, whoever asks (errors are 200, as the protocol says)
    "oai.endpoint": Route("open", values={"verb": "ListRecords", "metadataPrefix": "oai_dc"}),
    # clips (docs/clips.md): an item's citation page for anyone who may see it; the pid resolver (no item has
    # that identifier; tests/test_clips.py resolves real ones); clip lists for accounts. CLIP_LIST is the admin's
    # list holding a clip of every level, shared with every account: each reads only the clips they may see.
    "clips.cite": Route("item", values={"t": "1,2"}),
    "clips.resolve": Route("none", values={"pid": "urn:uuid:00000000-0000-0000-0000-000000000000"}, ok=frozenset({404})),
    "clips.index": Route("none", who=ACCOUNTS, ok=frozenset({200, 400})),
    "clips.show": Route("none", who=ACCOUNTS, values={"list_id": 1}),
    "clips.export_csv": Route("none", who=ACCOUNTS, values={"list_id": 1}),
    "clips.export_chapters": Route("none", who=ACCOUNTS, values={"list_id": 1}),
    "clips.export_iiif": Route("none", who=ACCOUNTS, values={"list_id": 1}),
    "clips.add": Route("item", who=ACCOUNTS, ok=frozenset({400})),
    "clips.move": Route("none", who=ACCOUNTS, values={"list_id": 1, "clip_id": 1}, ok=frozenset({303, 404})),
    "clips.remove": Route("none", who=ACCOUNTS, values={"list_id": 1, "clip_id": 999999}, ok=frozenset({404})),
    "clips.rename": Route("none", who=ACCOUNTS, values={"list_id": 1}, ok=frozenset({400, 404})),
    "clips.delete": Route("none", who=ACCOUNTS, values={"list_id": 999999}, ok=frozenset({404})),
    "clips.share": Route("none", who=ACCOUNTS, values={"list_id": 1}, ok=frozenset({400, 404})),
    "clips.unshare": Route("none", who=ACCOUNTS, values={"list_id": 1, "user_id": 999999}, ok=frozenset({404})),
}
#: POST routes without a CSRF token: OAI-PMH harvesters POST forms they never loaded, and /oai changes nothing.
CSRF_EXEMPT = frozenset({"oai.endpoint"})
#: How each scope's URL argument is named and found in the world fixture.
SCOPES = {"item": "item_id", "credit": "credit_id", "person": "person_id", "range": "range_id", "tag": "tag_id",
          "transcript": "transcript_id", "journey": "journey_id", "place": "place_id", "crossing": "crossing_id",
          "leg": "leg_id"}


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The archive the GET walks read (they change nothing, so one serves them all), on each catalogue."""
    return build_world(tmp_path_factory.mktemp("walk"), new_catalogue(request, request.param))


@pytest.fixture
def fresh_world(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> dict[str, Any]:
    """An archive of its own for a walk that posts: allowed posts may trash or change things."""
    return build_world(tmp_path_factory.mktemp("walk-post"), database_url)


def build_world(data: Any, database_url: str = "") -> dict[str, Any]:
    """One archive with an item at every level, and the accounts to look at it."""
    from archive.app import create_app
    from archive.services import accounts

    app = create_app({"data": str(data), "database_url": database_url, "secret_key": "walk",
                      "offer_access_copy_downloads": True})
    app.config.update(TESTING=True)
    archive: Archive = app.extensions["crossings"]
    with archive.session() as session:
        granted, other = Collection(title="Granted tapes"), Collection(title="Other tapes")
        session.add_all([granted, other])
        session.flush()
        collections = {"granted": granted.id, "other": other.id}
    spec = {"public": (AccessLevel.public, "Other tapes"), "restricted": (AccessLevel.restricted, "Other tapes"),
            "conf_granted": (AccessLevel.confidential, "Granted tapes"),
            "conf_other": (AccessLevel.confidential, "Other tapes"),
            "trashed": (AccessLevel.public, "Other tapes")}
    ids: dict[str, dict[str, int]] = {scope: {} for scope in SCOPES}
    for level, (access, collection) in spec.items():
        ids["item"][level] = add_item(archive, f"MARK-{level}-title", kind=ItemKind.video, access=access,
                                      collection=collection, tags=(f"MARK-{level}-tag",),
                                      description=f"MARK-{level}-description",
                                      credits=((f"MARK-{level}-person", "camera"),),
                                      derivatives=("grid", "page", "storyboard", "proxy", "access"),
                                      media={"duration": 10.0, "width": 16, "height": 9})
    with archive.session() as session:
        for level, item_id in ids["item"].items():
            item = session.get(Item, item_id)
            tag = session.scalar(select(Tag).where(Tag.name == f"MARK-{level}-tag"))
            item.ranges.append(TimeRange(tag=tag, start_sec=1.0, end_sec=2.0, note=f"MARK-{level}-range"))
            item.transcripts.append(Transcript(language="en", source_name=f"MARK-{level}.en.vtt", segments=[
                Segment(position=0, start_sec=1.0, end_sec=2.0, speaker=f"MARK-{level}-speaker",
                        text=f"MARK-{level}-segment")]))
            session.flush()
            ids["transcript"][level] = item.transcripts[0].id
            ids["range"][level] = item.ranges[0].id
            ids["tag"][level] = tag.id
            ids["credit"][level] = item.credits[0].id
            ids["person"][level] = item.credits[0].person_id
        session.get(Item, ids["item"]["trashed"]).deleted_at = datetime.now(timezone.utc)
        for role in ("researcher", "archivist", "admin"):
            accounts.create_user(session, role, "walk password 1", role)
        accounts.create_user(session, "archivist_granted", "walk password 1", "archivist")
        accounts.grant(session, "archivist_granted", collections["granted"])
    _add_journeys_and_places(archive, ids, spec)
    _add_crossings_and_legs(archive, ids)
    _add_catalogued_record(archive, ids)
    _add_clip_list(archive, ids)
    return {"app": app, "archive": archive, "ids": ids, "collections": collections}


def _add_journeys_and_places(archive: Archive, ids: dict[str, dict[str, int]],
                             spec: dict[str, tuple[AccessLevel, str]]) -> None:
    """A place and a journey at every level ("trashed": deleted). The public place is sensitive, at
    EXACT_POSITION published to about 10 km, and every item is shot there and on the public journey,
    whose route ends at the conf_other place."""
    from archive.access import SYSTEM
    from archive.services import journeys, legs, locations, places

    with archive.session() as session:
        start = places.create_place(session, SYSTEM, name="Walk start", latitude=13.75, longitude=100.5,
                                    country="TH").id
        for level, (access, collection) in spec.items():
            latitude, longitude = (float(EXACT_POSITION[0]), float(EXACT_POSITION[1])) if level == "public" \
                else (14.0 + len(ids["place"]), 100.0)
            ids["place"][level] = places.create_place(
                session, SYSTEM, name=f"SITE-{level}-place", latitude=latitude, longitude=longitude, country="TH",
                access=AccessLevel.public if level == "trashed" else access,
                precision="km10" if level == "public" else "exact").id
            collection_id = session.scalar(select(Collection.id).where(Collection.title == collection))
            journey = journeys.create_journey(session, SYSTEM, title=f"MARK-{level}-journey", access=access,
                                              collection_id=collection_id)
            legs.add_leg(session, SYSTEM, journey.id, from_place_id=start, to_place_id=ids["place"]["public"],
                         narrative=f"MARK-{level}-narrative")
            ids["journey"][level] = journey.id
        public_journey = ids["journey"]["public"]
        leg = legs.add_leg(session, SYSTEM, public_journey, from_place_id=ids["place"]["public"],
                           to_place_id=ids["place"]["conf_other"])
        for item_id in (ids["item"][level] for level in LEVELS if level != "trashed"):  # the trash is not edited
            locations.link_item_place(session, SYSTEM, item_id, ids["place"]["public"])
            locations.link_item_leg(session, SYSTEM, item_id, leg.id)
        places.delete_place(session, SYSTEM, ids["place"]["trashed"])
        journeys.delete_journey(session, SYSTEM, ids["journey"]["trashed"])


def _add_catalogued_record(archive: Archive, ids: dict[str, dict[str, int]]) -> None:
    """A public record imported before its media (ItemKind.catalogued), shot at the public place: every
    listing, map and search the walk reads holds an item without a file."""
    from archive.access import SYSTEM
    from archive.interchange.pbcore_import import import_pbcore
    from archive.services import locations

    record = ('<pbcoreDescriptionDocument xmlns="http://www.pbcore.org/PBCore/PBCoreNamespace.html">'
              '<pbcoreIdentifier source="walk">walk-record</pbcoreIdentifier>'
              '<pbcoreTitle>MARK-public-catalogued</pbcoreTitle></pbcoreDescriptionDocument>')
    with archive.session() as session:
        [imported] = import_pbcore(session, SYSTEM, record.encode(), source_name="walk.xml", access="public").records
        locations.link_item_place(session, SYSTEM, imported.item_id, ids["place"]["public"])
        ids.setdefault("catalogued", {})["public"] = imported.item_id


def _add_clip_list(archive: Archive, ids: dict[str, dict[str, int]]) -> None:
    """The admin's clip list (id 1, as ROUTES names it) with a clip of every level's item, the trashed one
    included, each noted MARK-<level>-clipnote, shared with every other account."""
    from archive.models import Clip, ClipList, ClipShare, User

    with archive.session() as session:
        users = {u.username: u.id for u in session.scalars(select(User))}
        clip_list = ClipList(owner_id=users["admin"], name="Walk clips")
        session.add(clip_list)
        session.flush()
        assert clip_list.id == 1, "ROUTES name the walk's clip list by id 1"
        for position, level in enumerate(LEVELS):
            clip_list.clips.append(Clip(item_id=ids["item"][level], position=position, start_sec=1.0, end_sec=2.0,
                                        note=f"MARK-{level}-clipnote"))
        for name in ("researcher", "archivist", "archivist_granted"):
            clip_list.shares.append(ClipShare(user_id=users[name]))


def _add_crossings_and_legs(archive: Archive, ids: dict[str, dict[str, int]]) -> None:
    """A border crossing at each level's place (known as its place is) and the first leg of each level's
    journey (known as its journey is); at "trashed", ones that were deleted."""
    from archive.access import SYSTEM
    from archive.models import Leg
    from archive.services import crossings, journeys, legs

    with archive.session() as session:
        for level in LEVELS:
            if level == "trashed":
                gone = crossings.create_crossing(session, SYSTEM, place_id=ids["place"]["public"],
                                                 from_country="TH", to_country="LA", kind="land")
                ids["crossing"][level] = gone.id
                crossings.delete_crossing(session, SYSTEM, gone.id)
                journey = journeys.create_journey(session, SYSTEM, title="MARK-trashed-legs")
                ids["leg"][level] = legs.add_leg(session, SYSTEM, journey.id, from_place_id=ids["place"]["public"],
                                                 to_place_id=ids["place"]["restricted"]).id
                journeys.delete_journey(session, SYSTEM, journey.id)
                continue
            ids["crossing"][level] = crossings.create_crossing(
                session, SYSTEM, place_id=ids["place"][level], from_country="TH", to_country="LA", kind="land").id
            ids["leg"][level] = session.scalar(select(Leg.id).where(Leg.journey_id == ids["journey"][level],
                                                                    Leg.position == 1))


def may_see(viewer: str, route: Route, level: str | None) -> bool:
    """Whether `viewer` may reach the object of `route` that belongs to items at `level`."""
    if route.scope in ("place", "crossing"):
        return level in PLACE_MAY_SEE[viewer]
    if viewer in ADMINS and route.scope in ("person", "tag"):
        return True  # names and terms are vocabulary; admins keep the trashed item's ones
    return level in MAY_SEE[viewer]


def client_for(world: dict[str, Any], viewer: str) -> FlaskClient:
    client = world["app"].test_client()
    if viewer != "anonymous":
        log_in(client, viewer, "walk password 1")
    return client


def markers_hidden_from(viewer: str, route: Route) -> list[str]:
    if viewer in ADMINS:
        # The trash and the log show admins everything; elsewhere a trashed item is gone, though
        # admins, who may restore it, still find its tags and people among the vocabulary.
        return [] if route.who <= ADMIN else ["MARK-trashed-title", "MARK-trashed-description"]
    return ([f"MARK-{level}" for level in LEVELS if level not in MAY_SEE[viewer]]
            + [f"SITE-{level}" for level in LEVELS if level not in PLACE_MAY_SEE[viewer]]
            + ([] if viewer in EDITORS else list(EXACT_POSITION)))


def refused(viewer: str, url: str) -> set[int]:
    """How a route refuses a viewer it is not for: the anonymous are sent to log in (the API answers
    401 instead), accounts find nothing (404)."""
    if viewer != "anonymous":
        return {404}
    return {401} if url.startswith("/api/v1/") else {302}


def test_every_route_is_known_to_the_walk(world: dict[str, Any]) -> None:
    app: Flask = world["app"]
    unknown = sorted(f"{rule.endpoint} {rule.rule}" for rule in app.url_map.iter_rules()
                     if rule.endpoint not in ROUTES)
    assert unknown == [], "routes the access walk does not know; add them to ROUTES: " + ", ".join(unknown)


def _urls(app: Flask, endpoint: str, route: Route, world: dict[str, Any]) -> list[tuple[str | None, str]]:
    """(item level or None, url) pairs to try for `endpoint`."""
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        from flask import url_for
        if route.scope in SCOPES:
            urls = []
            for level in LEVELS:
                args = {SCOPES[route.scope]: world["ids"][route.scope][level], **route.values}
                if route.scope in ("range", "transcript"):
                    args["item_id"] = world["ids"]["item"][level]
                urls.append((level, url_for(endpoint, **args)))
            return urls
        if route.scope == "collection":
            return [(name, url_for(endpoint, collection_id=cid, **route.values))
                    for name, cid in world["collections"].items()]
        missing = rule.arguments - set(route.values)
        assert not missing, f"{endpoint}: no values for {missing}"
        return [(None, url_for(endpoint, **route.values))]


def _visible_collection(viewer: str, name: str) -> bool:
    levels = {"granted": {"conf_granted"}, "other": {"public", "restricted", "conf_other"}}[name]
    return bool(levels & MAY_SEE[viewer])


@pytest.mark.parametrize("viewer", sorted(MAY_SEE))
def test_get_routes_show_each_viewer_only_what_they_may_see(world: dict[str, Any], viewer: str) -> None:
    app: Flask = world["app"]
    client = client_for(world, viewer)
    checked = 0
    for endpoint, route in ROUTES.items():
        rule = next((r for r in app.url_map.iter_rules() if r.endpoint == endpoint), None)
        if rule is None or "GET" not in rule.methods:
            continue
        for target, url in _urls(app, endpoint, route, world):
            response = client.get(url)
            body = response.get_data(as_text=True) if response.mimetype.startswith(
                ("text/", "application/json", "application/geo+json", "application/xml", "application/ld+json")) else ""
            where = f"{viewer} GET {url} ({endpoint})"
            assert response.status_code != 500, where
            if viewer not in route.who:
                assert response.status_code in refused(viewer, url), where
                if response.status_code == 302:
                    assert "/login" in response.headers["Location"], where
            elif route.scope in SCOPES:
                visible = may_see(viewer, route, target)
                assert (response.status_code in route.ok | {206}) if visible else response.status_code == 404, \
                    f"{where}: {response.status_code}"
            elif route.scope == "collection":
                visible = _visible_collection(viewer, str(target))
                assert response.status_code == (200 if visible else 404), where
            else:
                assert response.status_code in route.ok, f"{where}: {response.status_code}"
            for marker in markers_hidden_from(viewer, route):
                assert marker not in body, f"{where} leaks {marker}"
            checked += 1
    assert checked >= len(ROUTES)


@pytest.mark.parametrize("viewer", sorted(MAY_SEE))
def test_post_routes_refuse_whoever_may_not_use_them(fresh_world: dict[str, Any], viewer: str) -> None:
    world = fresh_world
    app: Flask = world["app"]
    archive: Archive = world["archive"]
    client = client_for(world, viewer)
    token = csrf_token(client, "/login" if viewer == "anonymous" else "/")
    for endpoint, route in ROUTES.items():
        rule = next((r for r in app.url_map.iter_rules() if r.endpoint == endpoint), None)
        if rule is None or "POST" not in rule.methods or endpoint in ("auth.login", "auth.logout"):
            continue
        for target, url in _urls(app, endpoint, route, world):
            with archive.Session() as session:
                before = session.scalar(select(func.count(AuditEntry.id)))
            response = client.post(url, data={"csrf_token": token})
            where = f"{viewer} POST {url} ({endpoint})"
            assert response.status_code != 500, where
            allowed = viewer in route.who and (route.scope not in SCOPES or may_see(viewer, route, target))
            if route.scope == "collection":
                allowed = allowed and _visible_collection(viewer, str(target))
            if not allowed:
                assert response.status_code in refused(viewer, url), f"{where}: {response.status_code}"
                with archive.Session() as session:
                    assert session.scalar(select(func.count(AuditEntry.id))) == before, f"{where} changed data"
            for marker in markers_hidden_from(viewer, route):
                assert marker not in response.get_data(as_text=True), f"{where} leaks {marker}"


def test_post_without_csrf_token_is_refused_everywhere(world: dict[str, Any]) -> None:
    app: Flask = world["app"]
    client = client_for(world, "admin")
    for endpoint, route in ROUTES.items():
        rule = next((r for r in app.url_map.iter_rules() if r.endpoint == endpoint), None)
        if rule is None or "POST" not in rule.methods or endpoint in CSRF_EXEMPT:
            continue
        for _, url in _urls(app, endpoint, route, world)[:1]:
            assert client.post(url, data={}).status_code == 400, f"POST {url} ({endpoint}) without a token"


def test_a_catalogued_record_is_a_public_item_without_files(world: dict[str, Any]) -> None:
    """The walk's record imported before its media: its page for everyone, no file for anyone, and the
    kept source record only for editors."""
    item_id = world["ids"]["catalogued"]["public"]
    for viewer in MAY_SEE:
        client = client_for(world, viewer)
        page = client.get(f"/items/{item_id}")
        assert page.status_code == 200, viewer
        body = page.get_data(as_text=True)
        assert "Catalogued, media not yet attached" in body
        assert ("walk-record&lt;/pbcoreIdentifier&gt;" in body) is (viewer in EDITORS), viewer
        for path in ("original", "access", "proxy", "thumbs/grid", "thumbs/page"):
            assert client.get(f"/items/{item_id}/{path}").status_code == 404, (viewer, path)


@pytest.mark.parametrize("viewer", sorted(MAY_SEE))
def test_manifests_name_only_what_each_viewer_may_see(world: dict[str, Any], viewer: str) -> None:
    """An item's IIIF manifest holds its own range and transcript, whose captions the viewer can load, and its
    leg with the hidden place undisclosed; nothing of what the viewer may not see (markers_hidden_from)."""
    client = client_for(world, viewer)
    for level in sorted(MAY_SEE[viewer] - {"trashed"}):
        item_id = world["ids"]["item"][level]
        manifest = client.get(f"/iiif/items/{item_id}/manifest").get_json()
        body = json.dumps(manifest, ensure_ascii=False)
        [canvas] = manifest["items"]
        [caption] = canvas["annotations"][0]["items"]
        assert caption["body"]["id"].endswith(f"/transcripts/{world['ids']['transcript'][level]}.vtt")
        assert client.get(caption["body"]["id"].replace("http://localhost", "")).status_code == 200
        assert f"MARK-{level}-tag" in body and f"MARK-{level}-range" in body
        assert "MARK-public-journey, leg 2: SITE-public-place" in body
        if viewer not in EDITORS:
            assert "leg 2: SITE-public-place → an undisclosed place" in body
        for marker in markers_hidden_from(viewer, ROUTES["iiif.manifest"]):
            assert marker not in body, f"{viewer}: manifest of {level} leaks {marker}"


@pytest.mark.parametrize("viewer", sorted(MAY_SEE))
def test_a_harvest_names_only_what_was_ever_public_whoever_asks(world: dict[str, Any], viewer: str) -> None:
    """/oai answers as the anonymous visitor sees the archive, logged in or not: the public items' records;
    the trashed item (public before it was trashed) as a deleted header only; the others never, not
    even their identifiers."""
    from lxml import etree

    archive: Archive = world["archive"]
    with archive.Session() as session:
        pids = {level: session.get(Item, item_id).pid for level, item_id in world["ids"]["item"].items()}
    client = client_for(world, viewer)
    oai = "{http://www.openarchives.org/OAI/2.0/}"
    for prefix in ("oai_dc", "pbcore"):
        for method in ("GET", "POST"):
            arguments = {"verb": "ListRecords", "metadataPrefix": prefix}
            response = client.get("/oai", query_string=arguments) if method == "GET" else client.post("/oai", data=arguments)
            body = response.get_data(as_text=True)
            where = f"{viewer} {method} /oai {prefix}"
            assert response.status_code == 200, where
            for level in ("restricted", "conf_granted", "conf_other"):
                assert pids[level] not in body and f"MARK-{level}" not in body, f"{where} names {level}"
            assert "MARK-trashed" not in body and "SITE-restricted" not in body, where
            headers = {h.findtext(f"{oai}identifier"): h.get("status")
                       for h in etree.fromstring(response.get_data()).iter(f"{oai}header")}
            assert headers.get(pids["public"]) is None and pids["public"] in headers, where
            assert headers[pids["trashed"]] == "deleted", where
