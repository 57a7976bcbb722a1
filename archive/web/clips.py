"""Clips on the web: the persistent-identifier resolver (/id/<pid>?t=START,END), a clip's citation page,
accounts' clip lists (/clips) with their sharing, and the lists' CSV, WebVTT chapters and IIIF Range list.

Thin views over archive.services.clips: a list nobody may read here is a 404, as an item is.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest

from archive.interchange import iiif
from archive.interchange.clip_exports import clips_chapters, clips_csv
from archive.models import Clip, Item, ItemKind
from archive.services import Invalid, clips
from archive.services.catalogue import get_item
from archive.timecode import format_timecode
from archive.web.auth import accounts_only
from archive.web.context import current_archive, current_viewer, db_session
from archive.web.iiif import LINKS, absolute
from archive.web.pages import player_for

bp = Blueprint("clips", __name__)


# -- links and citations ----------------------------------------------------------------------

@bp.app_template_global()
def moment_url(item: Item, start: float, end: float | None = None) -> str:
    """The stable link to a span of `item`, on its persistent identifier."""
    return absolute(clips.moment_path(item.pid, start, end))


def _href(path: str) -> str:
    """A link for a page: under `base_url` when set, else the bare path, so that a page names no host it
    was not asked under (citations and exports, which leave the page, use `absolute`)."""
    identity = current_archive().identity
    return identity.url(path) if identity.base_url else path


@bp.app_template_global()
def moment_href(item: Item, start: float, end: float | None = None) -> str:
    """`moment_url` for a link on a page."""
    return _href(clips.moment_path(item.pid, start, end))


@bp.app_template_global()
def pid_href(item: Item) -> str:
    """The item's persistent identifier as a page's link, which a `?t=` can follow (the clip tools' script
    makes it absolute for copying)."""
    return _href(f"/id/{item.pid}")


@bp.app_template_global()
def cite_url(item: Item, start: float, end: float | None = None) -> str:
    """The item's citation page for a span."""
    return url_for("clips.cite", item_id=item.id, t=clips.span_param(start, end))


@bp.get("/id/<path:pid>")
def resolve(pid: str) -> ResponseReturnValue:
    """An item's persistent identifier: to its page, keeping ?t= (a span plays and stops there)."""
    item = clips.item_by_pid(db_session(), current_viewer(), pid)
    t = request.args.get("t")
    return redirect(url_for("pages.item", item_id=item.id, t=t) if t else url_for("pages.item", item_id=item.id))


def _span(item: Item) -> tuple[float, float]:
    """The span asked for: ?t=START,END, or the fields ?start=&end= of the item page's clip form."""
    duration = item.media.duration if item.media else None
    try:
        if "t" in request.args:
            start, end = clips.parse_span(request.args["t"], duration=duration)
        else:
            start, end = clips.parse_clip_times(request.args.get("start", ""), request.args.get("end", ""))
            clips.parse_span(clips.span_param(start, end), duration=duration)
    except Invalid as exc:
        raise BadRequest(str(exc).capitalize() + ".") from None
    if end is None:
        if duration is None:
            raise BadRequest("Give the clip's out as well: t=START,END.")
        end = float(duration)
    return start, end


@bp.get("/items/<id:item_id>/cite")
def cite(item_id: int) -> ResponseReturnValue:
    """A clip's link and its citations (Chicago, APA, MLA); accounts save it to a list from here."""
    session, viewer = db_session(), current_viewer()
    item = get_item(session, viewer, item_id)
    if item.kind not in (ItemKind.video, ItemKind.audio):
        raise BadRequest("Only footage and recordings have clips; link to the item itself.")
    start, end = _span(item)
    url = moment_url(item, start, end)
    citations = clips.cite_clip(item, start, end, url=url, archive_name=current_archive().identity.name,
                                accessed=datetime.now(timezone.utc).date())
    owned = clips.lists_for(session, viewer)[0] if viewer.user_id is not None else []
    return render_template("clip_cite.html", item=item, start=start, end=end, url=url, citations=citations,
                           lists=[c for c, _ in owned], span=clips.span_param(start, end))


# -- lists ------------------------------------------------------------------------------------

@bp.route("/clips", methods=["GET", "POST"])
@accounts_only
def index() -> ResponseReturnValue:
    """The account's clip lists and those shared with it; a POST makes a new list."""
    session, viewer = db_session(), current_viewer()
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            made = clips.create_list(session, viewer, request.form.get("name", ""))
        except Invalid as exc:
            session.rollback()
            errors = {exc.field or "name": str(exc).capitalize() + "."}
        else:
            session.commit()
            return redirect(url_for("clips.show", list_id=made.id), 303)
    owned, shared = clips.lists_for(session, viewer)
    return render_template("clip_lists.html", owned=owned, shared=shared, errors=errors,
                           values=request.form), 400 if errors else 200


@bp.get("/clips/<id:list_id>")
@accounts_only
def show(list_id: int) -> ResponseReturnValue:
    """A list: its clips to play in sequence; to its owner, the order, notes and sharing to change."""
    view = clips.get_list(db_session(), current_viewer(), list_id)
    playlist = [_playable(clip) for clip in view.clips]
    return render_template("clip_list.html", view=view, playlist=json.dumps([p for p in playlist if p]),
                           errors={})


def _playable(clip: Clip) -> dict[str, Any] | None:
    player = player_for(clip.item)
    if player.element not in ("video", "audio") or not player.src:
        return None
    return {"id": clip.id, "src": player.src, "start": clip.start_sec, "end": clip.end_sec,
            "title": clip.item.title, "element": player.element}


@bp.post("/items/<id:item_id>/clips")
@accounts_only
def add(item_id: int) -> ResponseReturnValue:
    """Save a span of the item to one of the account's lists (a new one when `new_list` is named)."""
    session, viewer = db_session(), current_viewer()
    item = get_item(session, viewer, item_id)
    try:
        start, end = clips.parse_clip_times(request.form.get("start", ""), request.form.get("end", ""))
        new_name = request.form.get("new_list", "").strip()
        if new_name:
            list_id = clips.create_list(session, viewer, new_name).id
        else:
            try:
                list_id = int(request.form.get("list_id", ""))
            except ValueError:
                raise Invalid("choose a list, or name a new one", "list_id") from None
        clips.add_clip(session, viewer, list_id, item.id, start, end, request.form.get("note", ""))
    except Invalid as exc:
        session.rollback()
        raise BadRequest(str(exc).capitalize() + ".") from None
    session.commit()
    flash(f"Clip {format_timecode(start)}–{format_timecode(end)} of “{item.title}” saved.")
    return redirect(url_for("clips.show", list_id=list_id), 303)


def _change(list_id: int, action: Any, message: str | None = None) -> ResponseReturnValue:
    """Run an owner's change of a list, and back to it; a refused value is a 400 with its reason."""
    session = db_session()
    try:
        action(session)
    except Invalid as exc:
        session.rollback()
        raise BadRequest(str(exc).capitalize() + ".") from None
    session.commit()
    if message:
        flash(message)
    return redirect(url_for("clips.show", list_id=list_id), 303)


@bp.post("/clips/<id:list_id>/clips/<id:clip_id>/move")
@accounts_only
def move(list_id: int, clip_id: int) -> ResponseReturnValue:
    offset = {"up": -1, "down": 1}.get(request.form.get("direction", ""), 0)
    return _change(list_id, lambda s: clips.move_clip(s, current_viewer(), list_id, clip_id, offset))


@bp.post("/clips/<id:list_id>/clips/<id:clip_id>/delete")
@accounts_only
def remove(list_id: int, clip_id: int) -> ResponseReturnValue:
    return _change(list_id, lambda s: clips.remove_clip(s, current_viewer(), list_id, clip_id), "Clip removed.")


@bp.post("/clips/<id:list_id>/rename")
@accounts_only
def rename(list_id: int) -> ResponseReturnValue:
    return _change(list_id, lambda s: clips.rename_list(s, current_viewer(), list_id, request.form.get("name", "")))


@bp.post("/clips/<id:list_id>/delete")
@accounts_only
def delete(list_id: int) -> ResponseReturnValue:
    session = db_session()
    clips.delete_list(session, current_viewer(), list_id)
    session.commit()
    flash("List deleted.")
    return redirect(url_for("clips.index"), 303)


@bp.post("/clips/<id:list_id>/share")
@accounts_only
def share(list_id: int) -> ResponseReturnValue:
    username = request.form.get("username", "")
    return _change(list_id, lambda s: clips.share_list(s, current_viewer(), list_id, username),
                   f"Shared with {username.strip()}: they can read it, not change it.")


@bp.post("/clips/<id:list_id>/shares/<id:user_id>/delete")
@accounts_only
def unshare(list_id: int, user_id: int) -> ResponseReturnValue:
    return _change(list_id, lambda s: clips.unshare_list(s, current_viewer(), list_id, user_id), "No longer shared.")


# -- exports: what the reader may see, in order -----------------------------------------------

def _url_of(clip: Clip) -> str:
    return moment_url(clip.item, clip.start_sec, clip.end_sec)


def _download(body: str, mimetype: str, name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/clips/<id:list_id>.csv")
@accounts_only
def export_csv(list_id: int) -> Response:
    view = clips.get_list(db_session(), current_viewer(), list_id)
    return _download(clips_csv(view.clips, _url_of), "text/csv", f"clips-{list_id}.csv")


@bp.get("/clips/<id:list_id>.vtt")
@accounts_only
def export_chapters(list_id: int) -> Response:
    view = clips.get_list(db_session(), current_viewer(), list_id)
    return _download(clips_chapters(view.clips, _url_of), "text/vtt", f"clips-{list_id}.vtt")


@bp.get("/clips/<id:list_id>.iiif.json")
@accounts_only
def export_iiif(list_id: int) -> Response:
    view = clips.get_list(db_session(), current_viewer(), list_id)
    body = iiif.clip_ranges(absolute(url_for("clips.export_iiif", list_id=list_id)), view.clip_list.name,
                            [(c.item, c.start_sec, c.end_sec, c.note) for c in view.clips], LINKS)
    response = Response(json.dumps(body, ensure_ascii=False, indent=1),
                        mimetype='application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"')
    response.headers["Cache-Control"] = "private, no-store"
    return response
