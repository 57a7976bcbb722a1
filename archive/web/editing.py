"""Editing pages for archivists and admins: items, collections, people, credits, uploads, bulk edits.

Each view parses the form, calls one service in archive.services.editing and owns the
transaction: commit and redirect (303) with a message on success; on a refusal, roll back and
show the form again with the input kept and each message beside its field (400).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from archive.access import can_see
from archive.dates import EDTF_HINT
from archive.models import AccessLevel, Collection, Credit, Item, LocationPrecision
from archive.services import Invalid, Stale, StaleBatch, audit, counted, editing, locations
from archive.services.catalogue import ItemQuery, find_items, get_item, visible_items
from archive.services.editing import KEEP, PublicationPreview
from archive.services.ingest import IngestReport, new_item_levels
from archive.web import pages
from archive.web.auth import editors_only
from archive.web.context import current_archive, current_viewer, db_session

bp = Blueprint("edit", __name__)


ITEM_FORM = ("title", "description", "date_shot", "creator", "language", "rights", "source", "access",
             "collection_id", "tags")
COLLECTION_FORM = ("title", "year", "kind", "synopsis", "description", "rights")
PERSON_FORM = ("name", "note")
#: The "where it was filmed" fields of the item's edit page, whose messages show in that section.
GEOGRAPHY_FIELDS = ("places", "legs", "location_precision")
#: How flash messages name changed fields that "to_place_id → to place" does not make readable.
LABELS = {"access": "access level"}
PEOPLE_PER_PAGE = 50
#: The access levels as forms offer them, with who may see each.
ACCESS_OPTIONS = [(AccessLevel.public.value, "Public — anyone"),
                  (AccessLevel.restricted.value, "Restricted — researchers and archivists"),
                  (AccessLevel.confidential.value, "Confidential — admins, and those granted the collection")]
#: The published precisions of a GPS position as forms offer them.
PRECISION_OPTIONS = [(LocationPrecision.exact.value, "Exact — shown as recorded"),
                     (LocationPrecision.km10.value, "About 10 km"),
                     (LocationPrecision.region.value, "Region only"),
                     (LocationPrecision.country.value, "Country only")]


# -- small helpers ----------------------------------------------------------------------------

def messages(exc: Invalid) -> dict[str, str]:
    """{field: message} of a refusal, each as a sentence to show beside its field."""
    def sentence(text: str) -> str:
        text = text[:1].upper() + text[1:]
        return text if text.endswith((".", "?", "!", ")")) else text + "."
    return {name: sentence(text) for name, text in editing.field_errors(exc).items()}


def changes_since_text(exc: Stale) -> str:
    """What changed since the form was shown, from the audit trail: each field's value now and who set it."""
    since = audit.changes_since(db_session(), exc.object_type, exc.object_id, exc.version)
    return "; ".join(f"{field_words(c.field)} is now {audit_text(c.value)} (by {c.actor}, "
                     f"{c.at:%Y-%m-%d %H:%M} UTC)" for c in since)


def stale_message(exc: Stale) -> str:
    changes = changes_since_text(exc)
    return (f"Not saved: someone else saved this {exc.object_type} after you opened it"
            + (f": {changes}." if changes else ".")
            + " Your values are kept below; check them against these and save again to keep yours.")


def stale_batch_message(exc: StaleBatch) -> str:
    """Which items of a bulk edit were saved by someone else since the page was shown, by title, and what changed."""
    session = db_session()
    named = []
    for stale in exc.stale:
        item = session.get(Item, stale.object_id)
        changes = changes_since_text(stale)
        named.append(f"“{item.title if item else stale.object_id}”" + (f" ({changes})" if changes else ""))
    return (f"Nothing was changed: someone else saved {', '.join(named)} after you opened this page. "
            "The page now shows them as they are; check the selection and apply again.")


def audit_text(value: Any) -> str:
    if isinstance(value, list):
        return "“" + ", ".join(map(str, value)) + "”" if value else "none"
    return "empty" if value in (None, "") else f"“{value}”"


def refusal(exc: Invalid) -> tuple[dict[str, str], int]:
    """Roll back a refused save; its messages by field, and its status: 409 for a stale form, else 400."""
    db_session().rollback()
    if isinstance(exc, Stale):
        return {"version": stale_message(exc)}, 409
    if isinstance(exc, StaleBatch):
        return {"version": stale_batch_message(exc)}, 409
    return messages(exc), 400


def form_values(names: tuple[str, ...]) -> dict[str, str]:
    """The named fields that the form sent (a field left out is kept as it is, not emptied)."""
    return {name: request.form[name] for name in names if name in request.form}


def done(message: str, location: str) -> ResponseReturnValue:
    db_session().commit()
    flash(message)
    return redirect(location, 303)


def field_words(name: str) -> str:
    """A field's name in words: "to place" for to_place_id."""
    return LABELS.get(name, name.removesuffix("_id").replace("_", " "))


def changed(changes: dict[str, Any]) -> str:
    """The changed fields in words: "to place, date shot"."""
    return ", ".join(field_words(name) for name in changes)


def wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def item_values(item: Item) -> dict[str, str]:
    return {"title": item.title, "description": item.description, "date_shot": item.date_shot,
            "creator": item.creator, "language": item.language, "rights": item.rights, "source": item.source,
            "access": item.access.value, "collection_id": str(item.collection_id or ""),
            "tags": ", ".join(t.name for t in item.tags)}


def collection_values(collection: Collection) -> dict[str, str]:
    return {"title": collection.title, "year": str(collection.year or ""), "kind": collection.kind,
            "synopsis": collection.synopsis, "description": collection.description, "rights": collection.rights}


def credit_form_context(credit_values: dict[str, str] | None = None,
                        credit_errors: dict[str, str] | None = None) -> dict[str, Any]:
    session, viewer = db_session(), current_viewer()
    return {"credit_values": credit_values or {}, "credit_errors": credit_errors or {},
            "people_names": editing.person_names(session, viewer), "roles": editing.credit_roles(session)}


# -- items ------------------------------------------------------------------------------------

def render_item_form(item_id: int, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                     geo_errors: dict[str, str] | None = None, geo_values: MultiDict[str, str] | None = None,
                     range_where: tuple[int, dict[str, str]] | None = None,
                     publication: PublicationPreview | None = None, **credit: Any) -> str:
    """The item's edit page. A refused form is shown as it was sent: `geo_values` fills "where it was
    filmed", `range_where` (range id, values) the place and leg of that time range. With `publication`,
    the page asks to confirm what making the item public shows."""
    session, viewer = db_session(), current_viewer()
    item = get_item(session, viewer, item_id)
    return render_template("edit_item.html", item=item, values={**item_values(item), **(values or {})},
                           errors=errors or {}, collections=editing.known_collections(session, viewer),
                           access_options=ACCESS_OPTIONS, edtf_hint=EDTF_HINT, geo_errors=geo_errors or {},
                           geo_values=geo_values, range_where=range_where, publication=publication,
                           **credit_form_context(**credit))


def publication_to_confirm(item_ids: list[int], access: str) -> PublicationPreview | None:
    """What a save setting `access` would make public, when the form has not confirmed it yet."""
    if access != AccessLevel.public.value or request.form.get("confirm_public") == "yes":
        return None
    preview = editing.publication_preview(db_session(), current_viewer(), item_ids, access)
    return preview if preview.needs_confirmation else None


def posted_geography() -> dict[str, Any]:
    """The "where it was filmed" fields as sent: the places and legs ticked or added, the precision."""
    form = request.form
    where: dict[str, Any] = {
        "place_ids": [p for p in (*form.getlist("place_ids"), form.get("add_place", "")) if p],
        "leg_ids": [leg for leg in (*form.getlist("leg_ids"), form.get("add_leg", "")) if leg]}
    if "location_precision" in form:
        where["precision"] = form["location_precision"]
    return where


@dataclass(frozen=True)
class SavedItem:
    item: Item
    changes: dict[str, Any]


def save_item_page(item_id: int, *, geography: bool) -> SavedItem | ResponseReturnValue:
    """Save what the item's edit page sent, its fields and (with `geography`) where it was filmed,
    all or nothing: both of its save buttons send the whole page, so that neither drops what was
    typed beside the other. Returns the item and its changes, or the page again with what was typed
    and why it was refused (400, 409 when someone else saved the item meanwhile)."""
    session, viewer = db_session(), current_viewer()
    values = form_values(ITEM_FORM)
    fields: dict[str, Any] = {name: value for name, value in values.items() if name != "tags"}
    tags = editing.split_tags(values["tags"]) if "tags" in values else KEEP
    publication = publication_to_confirm([item_id], values.get("access", ""))
    try:
        changes = editing.edit_item(session, viewer, item_id, tags=tags, **fields,
                                    expected_version=request.form.get("version"))
        if geography:  # the version was checked just now, in this transaction
            changes.update(locations.set_item_geography(session, viewer, item_id, **posted_geography()))
    except Invalid as exc:
        errors, status = refusal(exc)
        geo_errors = {name: errors.pop(name) for name in GEOGRAPHY_FIELDS if name in errors}
        return render_item_form(item_id, values, errors, geo_errors,
                                geo_values=request.form if geography else None), status
    if publication is not None:  # checked and valid, but not saved until the editor has seen what it publishes
        session.rollback()
        return render_item_form(item_id, values, publication=publication,
                                geo_values=request.form if geography else None)
    item = session.get(Item, item_id)
    assert item is not None
    return SavedItem(item, changes)


@bp.route("/items/<id:item_id>/edit", methods=["GET", "POST"])
@editors_only
def edit_item(item_id: int) -> ResponseReturnValue:
    if request.method == "GET":
        return render_item_form(item_id)
    saved = save_item_page(item_id, geography="geography" in request.form)
    if not isinstance(saved, SavedItem):
        return saved
    item, changes = saved.item, saved.changes
    if not changes:
        return done("Nothing to save: no field was changed.", url_for("pages.item", item_id=item_id))
    if not can_see(current_viewer(), item):
        return done(f"Saved “{item.title}” ({changed(changes)}). It is confidential in a collection you "
                    "have no grant for, so you no longer see it.", url_for("pages.browse"))
    return done(f"Saved “{item.title}”: {changed(changes)} changed.", url_for("pages.item", item_id=item_id))


@bp.post("/items/<id:item_id>/credits")
@editors_only
def credit_item(item_id: int) -> ResponseReturnValue:
    session, viewer = db_session(), current_viewer()
    values = {"person": request.form.get("person", ""), "role": request.form.get("role", "")}
    try:
        credit = editing.credit_item(session, viewer, item_id, values["person"], values["role"])
    except Invalid as exc:
        session.rollback()
        return render_item_form(item_id, credit_values=values, credit_errors=messages(exc)), 400
    return done(f"Credited {credit.person.name} as {credit.role}.",
                url_for("edit.edit_item", item_id=item_id, _anchor="credits"))


# -- credits on either ------------------------------------------------------------------------

def credit_target_url(credit: Credit) -> str:
    if credit.item_id is not None:
        return url_for("edit.edit_item", item_id=credit.item_id, _anchor="credits")
    return url_for("edit.edit_collection", collection_id=credit.collection_id, _anchor="credits")


@bp.post("/credits/<id:credit_id>/delete")
@editors_only
def remove_credit(credit_id: int) -> ResponseReturnValue:
    credit = editing.remove_credit(db_session(), current_viewer(), credit_id)
    return done(f"Removed {credit.person.name} as {credit.role}.", credit_target_url(credit))


@bp.post("/credits/<id:credit_id>/move")
@editors_only
def move_credit(credit_id: int) -> ResponseReturnValue:
    step = -1 if request.form.get("direction") == "up" else 1
    credit = editing.move_credit(db_session(), current_viewer(), credit_id, step)
    return done(f"Moved {credit.person.name} ({credit.role}) {'up' if step < 0 else 'down'}.",
                credit_target_url(credit))


# -- collections ------------------------------------------------------------------------------

def render_collection_form(collection: Collection | None, values: dict[str, str] | None = None,
                           errors: dict[str, str] | None = None, **credit: Any) -> str:
    shown = {**(collection_values(collection) if collection else {}), **(values or {})}
    context: dict[str, Any] = {}
    if collection is not None:
        context = credit_form_context(**credit)
        context["visible_items"] = find_items(db_session(), current_viewer(),
                                              ItemQuery(collection_id=collection.id, per_page=1)).total
    return render_template("edit_collection.html", collection=collection, values=shown, errors=errors or {},
                           **context)


@bp.route("/collections/new", methods=["GET", "POST"])
@editors_only
def new_collection() -> ResponseReturnValue:
    if request.method == "GET":
        return render_collection_form(None)
    session = db_session()
    values = form_values(COLLECTION_FORM)
    try:
        # A new collection has no old values to keep: a field left out is empty (the title is refused).
        collection = editing.create_collection(session, **{"title": "", **values})
    except Invalid as exc:
        session.rollback()
        return render_collection_form(None, values, messages(exc)), 400
    return done(f"Created the collection “{collection.title}”. Add items to it by uploading, or from the "
                "browse page with a bulk edit.", url_for("edit.edit_collection", collection_id=collection.id))


@bp.route("/collections/<id:collection_id>/edit", methods=["GET", "POST"])
@editors_only
def edit_collection(collection_id: int) -> ResponseReturnValue:
    session, viewer = db_session(), current_viewer()
    if request.method == "GET":
        return render_collection_form(editing.get_known_collection(session, viewer, collection_id))
    values = form_values(COLLECTION_FORM)
    try:
        changes = editing.edit_collection(session, viewer, collection_id, **values,
                                          expected_version=request.form.get("version"))
    except Invalid as exc:
        errors, status = refusal(exc)
        collection = editing.get_known_collection(session, viewer, collection_id)
        return render_collection_form(collection, values, errors), status
    title = session.get(Collection, collection_id).title  # type: ignore[union-attr]
    message = (f"Saved “{title}”: {changed(changes)} changed." if changes
               else "Nothing to save: no field was changed.")
    return done(message, url_for("edit.edit_collection", collection_id=collection_id))


@bp.post("/collections/<id:collection_id>/credits")
@editors_only
def credit_collection(collection_id: int) -> ResponseReturnValue:
    session, viewer = db_session(), current_viewer()
    values = {"person": request.form.get("person", ""), "role": request.form.get("role", "")}
    try:
        credit = editing.credit_collection(session, viewer, collection_id, values["person"], values["role"])
    except Invalid as exc:
        session.rollback()
        collection = editing.get_known_collection(session, viewer, collection_id)
        return render_collection_form(collection, credit_values=values, credit_errors=messages(exc)), 400
    return done(f"Credited {credit.person.name} as {credit.role}.",
                url_for("edit.edit_collection", collection_id=collection_id, _anchor="credits"))


# -- people -----------------------------------------------------------------------------------

def render_people(values: dict[str, str] | None = None, errors: dict[str, str] | None = None) -> str:
    query = request.args.get("q", "").strip()
    page = editing.fields.whole_number(request.args.get("page", ""), "page") or 1
    found = editing.find_people(db_session(), current_viewer(), query, page=page, per_page=PEOPLE_PER_PAGE)
    return render_template("people.html", found=found, query=query, values=values or {}, errors=errors or {})


@bp.route("/people", methods=["GET", "POST"])
@editors_only
def people() -> ResponseReturnValue:
    if request.method == "GET":
        return render_people()
    session = db_session()
    values = form_values(PERSON_FORM)
    try:
        person = editing.create_person(session, values.get("name", ""), values.get("note", ""))
    except Invalid as exc:
        session.rollback()
        return render_people(values, messages(exc)), 400
    return done(f"Added {person.name}.", url_for("edit.people", q=person.name))


def render_person_form(person_id: int, values: dict[str, str] | None = None,
                       errors: dict[str, str] | None = None) -> str:
    session, viewer = db_session(), current_viewer()
    person = editing.get_person(session, viewer, person_id)
    credits, hidden = editing.person_credits(session, viewer, person)
    return render_template("edit_person.html", person=person, credits=credits, hidden_credits=hidden,
                           values={"name": person.name, "note": person.note, **(values or {})},
                           errors=errors or {})


@bp.route("/people/<id:person_id>/edit", methods=["GET", "POST"])
@editors_only
def edit_person(person_id: int) -> ResponseReturnValue:
    if request.method == "GET":
        return render_person_form(person_id)
    session = db_session()
    values = form_values(PERSON_FORM)
    try:
        changes = editing.edit_person(session, current_viewer(), person_id, **values,
                                      expected_version=request.form.get("version"))
    except Invalid as exc:
        errors, status = refusal(exc)
        return render_person_form(person_id, values, errors), status
    name = values.get("name") and " ".join(values["name"].split())
    message = f"Saved {name or 'the person'}: {changed(changes)} changed." if changes else "Nothing to save."
    return done(message, url_for("edit.edit_person", person_id=person_id))


@bp.post("/people/<id:person_id>/delete")
@editors_only
def delete_person(person_id: int) -> ResponseReturnValue:
    session = db_session()
    try:
        name = editing.delete_person(session, current_viewer(), person_id)
    except Invalid as exc:
        session.rollback()
        return render_person_form(person_id, errors=messages(exc)), 400
    return done(f"Deleted {name}.", url_for("edit.people"))


# -- uploads ----------------------------------------------------------------------------------

def render_upload(values: dict[str, str], errors: dict[str, str] | None = None,
                  results: dict[str, Any] | None = None) -> str:
    session, viewer = db_session(), current_viewer()
    return render_template("upload.html", values=values, errors=errors or {}, results=results,
                           collections=editing.known_collections(session, viewer), access_options=ACCESS_OPTIONS,
                           precision_options=PRECISION_OPTIONS)


def upload_results(report: IngestReport) -> dict[str, Any]:
    """The ingest report for the uploader: links only to items they may see."""
    session, viewer = db_session(), current_viewer()
    ids = [e["item_id"] for e in (*report.ingested, *report.duplicates)]
    visible = ({item.id: item for item in session.scalars(visible_items(viewer).where(Item.id.in_(ids)))}
               if ids else {})

    def entry(e: dict[str, Any]) -> dict[str, Any]:
        item = visible.get(e["item_id"])
        return {"name": e["name"], "item_id": item.id if item else None, "title": item.title if item else None,
                "url": url_for("pages.item", item_id=item.id) if item else None,
                "edit_url": url_for("edit.edit_item", item_id=item.id) if item else None}

    return {"ingested": [entry(e) for e in report.ingested], "duplicates": [entry(e) for e in report.duplicates],
            "failed": [{"name": e["name"], "reason": e["reason"]} for e in report.failed]}


@bp.route("/upload", methods=["GET", "POST"])
@editors_only
def upload() -> ResponseReturnValue:
    archive, session, viewer = current_archive(), db_session(), current_viewer()
    # The form starts at the archive's defaults (restricted, about 10 km unless changed); a client
    # that leaves a field out gets the same.
    access, precision = new_item_levels(archive.settings)
    defaults = {"access": access.value, "location_precision": precision.value}
    if request.method == "GET":
        return render_upload(defaults)
    files = [(f.filename or "", f.stream) for f in request.files.getlist("files") if f.filename]
    values = {"collection_id": request.form.get("collection_id", ""),
              "new_collection": request.form.get("new_collection", ""),
              **{name: request.form.get(name, default) for name, default in defaults.items()}}
    try:
        choices = editing.upload_choices(session, viewer, file_count=len(files), **values)
    except Invalid as exc:
        session.rollback()
        if wants_json():
            return jsonify(errors=messages(exc)), 400
        return render_upload(values, messages(exc)), 400
    session.commit()  # ingest records each file in a transaction of its own
    results = upload_results(editing.ingest_uploads(archive, viewer, files, choices))
    if wants_json():
        return jsonify(results)
    return render_upload(values, results=results)


# -- bulk edit from the browse grid -----------------------------------------------------------

@bp.app_template_global()
def bulk_form() -> dict[str, Any]:
    """What the browse page's bulk bar needs, with the refused input when a bulk edit was refused."""
    state = g.get("bulk_state") or {}
    return {"action": url_for("edit.bulk_edit", **request.args.to_dict()),
            "collections": editing.known_collections(db_session(), current_viewer()),
            "access_options": [(a.value, a.value.capitalize()) for a in AccessLevel], "errors": state.get("errors", {}),
            "values": state.get("values", {}), "selected": state.get("selected", set()),
            "preview": state.get("preview")}


@bp.post("/items/bulk")
@editors_only
def bulk_edit() -> ResponseReturnValue:
    session, viewer = db_session(), current_viewer()
    form: MultiDict[str, str] = request.form
    raw_ids = form.getlist("item")
    values = {name: form.get(name, "") for name in ("add_tags", "remove_tags", "collection_id", "access")}
    collection = values["collection_id"]
    try:
        if not all(i.isascii() and i.isdigit() for i in raw_ids):
            raise Invalid("item ids must be whole numbers", "items")
        publication = publication_to_confirm([int(i) for i in raw_ids], values["access"])
        result = editing.bulk_edit(
            session, viewer, [int(i) for i in raw_ids], add_tags=editing.split_tags(values["add_tags"]),
            remove_tags=editing.split_tags(values["remove_tags"]),
            collection_id=KEEP if collection == "" else None if collection == "none" else collection,
            access=values["access"] or KEEP,
            # Each card carries the version of its item as the page showed it.
            versions={int(i): form.get(f"version-{i}") for i in raw_ids})
    except Invalid as exc:
        errors, status = refusal(exc)
        # The browse page again, as it was, with the bar showing what was refused.
        g.bulk_state = {"errors": errors, "values": values,
                        "selected": {int(i) for i in raw_ids if i.isascii() and i.isdigit()}}
        return browse_again(), status
    if publication is not None:  # checked, but applied only once the editor has seen what it publishes
        session.rollback()
        g.bulk_state = {"errors": {}, "values": values, "selected": {int(i) for i in raw_ids}, "preview": publication}
        return browse_again()
    return done(result.summary(), url_for("pages.browse", **request.args.to_dict()))


def browse_again() -> ResponseReturnValue:
    """The browse page the bulk edit was sent from (its action carries the query), with the bar in
    g.bulk_state; rendered as the browse route so that its own links point there."""
    request.url_rule = next(current_app.url_map.iter_rules("pages.browse"))
    return pages.browse()
