"""A journey to take into a classroom: one folder (and a zip of it) that opens from file:// with no server
and no network.

    OUT/
      index.html            timeline, map, each leg's clips with their transcripts and captions
      handout.html          the printable handout: route, dates, crossings, one still per leg, sources
      story.js  story.css   the package's own script and style (copied from story_assets/)
      vendor/leaflet/...    Leaflet, copied from node_modules (its licence beside it)
      media/<item id>.<ext>   the copy an anonymous visitor may play: the proxy, else the access copy
      stills/<item id>.<ext>  the page-size thumbnail (a still's picture, a video's poster)
    OUT.zip                 the same folder, zipped

Everything is taken as the anonymous viewer sees it, whoever asks: public items only (the journey's
footage is read with archive.access.item_filter), positions as archive.access.published_position gives
them (through JourneyView), and never an original, its checksum or its name: only derivatives, which
carry no metadata. Browsers treat each file:// page as an origin of its own, so nothing is fetched: the
journey, the country outlines and the transcripts are inlined in <script type="application/json"> blocks,
and the captions are data: URLs on <track>.
"""

from __future__ import annotations

import base64
import json
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from archive.access import ANONYMOUS
from archive.identity import Identity
from archive.models import Item, ItemKind
from archive.services.access_copies import ACCESS
from archive.services.journeys import JourneyView, journey_geojson, journey_view
from archive.services.transcripts import cues_of, export_transcript, list_transcripts
from archive.store import CHUNK, Store

ASSETS = Path(__file__).resolve().parent / "story_assets"
ROOT = Path(__file__).resolve().parent.parent.parent
LEAFLET_DIST = ROOT / "node_modules" / "leaflet" / "dist"
LEAFLET_FILES = ("leaflet.js", "leaflet.css", "images/layers.png", "images/layers-2x.png",
                 "images/marker-icon.png", "images/marker-icon-2x.png", "images/marker-shadow.png")
COUNTRIES = ROOT / "static" / "geodata" / "countries.geojson"
#: Derivatives a package plays, in order of preference: both are made without the original's metadata.
PLAYABLE = ("proxy", ACCESS)
EXTENSIONS = {"video/mp4": ".mp4", "video/webm": ".webm", "audio/mp4": ".m4a", "audio/mpeg": ".mp3",
              "audio/ogg": ".ogg", "audio/webm": ".weba", "image/jpeg": ".jpg", "image/png": ".png",
              "image/webp": ".webp"}


@dataclass
class StoryReport:
    folder: Path
    zip_path: Path
    legs: int = 0
    clips: int = 0
    files: int = 0
    bytes: int = 0
    #: item id: why it is listed without media (nothing an anonymous visitor may play has been made yet)
    without_media: dict[int, str] = field(default_factory=dict)


def export_story(session: Session, store: Store, journey_id: int, out: Path, *, identity: Identity,
                 today: date | None = None) -> StoryReport:
    """Write the story package of the journey to the folder `out` (which must not exist) and `out`.zip.

    NotFound when the journey is not public (the package is what an anonymous visitor may see).
    """
    if out.exists():
        raise FileExistsError(f"{out} already exists; give a new folder")
    view = journey_view(session, ANONYMOUS, journey_id)
    exported = today or datetime.now(timezone.utc).date()
    report = StoryReport(out, out.with_name(out.name + ".zip"))
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "media").mkdir(parents=True)
    (partial / "stills").mkdir()
    try:
        clips = _write_media(session, store, view, partial, report)
        data = _story_data(view, clips, identity, exported)
        _write_pages(partial, data)
        _copy_assets(partial)
        partial.rename(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    report.legs = len(view.legs)
    report.clips = sum(len(leg["clips"]) for leg in data["legs"])
    _zip(out, report.zip_path)
    for path in out.rglob("*"):
        if path.is_file():
            report.files += 1
            report.bytes += path.stat().st_size
    return report


# -- what goes in ------------------------------------------------------------------------------

def playable_copy(item: Item) -> Any:
    """The derivative an anonymous visitor may play or view, or None: never the original (whatever its
    precision, a package leaves the archive and may be copied on)."""
    media = item.media
    if media is None:
        return None
    if item.kind is ItemKind.still:
        return media.derivative("page")
    return next((copy for kind in PLAYABLE if (copy := media.derivative(kind)) is not None), None)


def _copy_file(store: Store, relpath: str, dest: Path) -> None:
    with store.open(relpath) as source, open(dest, "wb") as target:
        while chunk := source.read(CHUNK):
            target.write(chunk)


def _extension(mime: str, path: str) -> str:
    return EXTENSIONS.get(mime) or Path(path).suffix or ".bin"


def _write_media(session: Session, store: Store, view: JourneyView, root: Path,
                 report: StoryReport) -> dict[int, dict[str, Any]]:
    """Copy each footage item's playable copy and still once; return per item what the pages need."""
    items: dict[int, dict[str, Any]] = {}
    for leg in view.legs:
        for film in leg.footage:
            item = film.item
            if item.id in items:
                continue
            entry = _item_entry(session, item)
            copy = playable_copy(item)
            if copy is not None:
                folder = "stills" if item.kind is ItemKind.still else "media"
                name = f"{folder}/{item.id}{_extension(copy.mime_type, copy.path)}"
                _copy_file(store, copy.path, root / name)
                entry.update(src=name, mime_type=copy.mime_type)
            else:
                report.without_media[item.id] = "no copy without the original's metadata has been made yet"
            poster = item.media.derivative("page") if item.media is not None else None
            if poster is not None:
                name = f"stills/{item.id}{_extension(poster.mime_type, poster.path)}"
                if not (root / name).exists():
                    _copy_file(store, poster.path, root / name)
                entry["still"] = name
            items[item.id] = entry
    return items


def _item_entry(session: Session, item: Item) -> dict[str, Any]:
    transcripts = []
    for transcript in list_transcripts(session, ANONYMOUS, item.id):
        vtt, _ = export_transcript(transcript, "vtt")
        transcripts.append({
            "language": transcript.language, "kind": transcript.kind.value,
            "label": f"{transcript.language or 'no language'} {transcript.kind.value}",
            "vtt": "data:text/vtt;charset=utf-8;base64," + base64.b64encode(vtt.encode()).decode("ascii"),
            "cues": [[cue.start, cue.end, cue.speaker, cue.text] for cue in cues_of(transcript)]})
    return {"id": item.id, "title": item.title, "kind": item.kind.value, "description": item.description,
            "date_shot": item.date_shot, "creator": item.creator, "rights": item.rights, "source": item.source,
            "pid": item.pid, "collection": item.collection.title if item.collection is not None else "",
            "credits": [f"{c.person.name} ({c.role})" for c in item.credits],
            "src": None, "mime_type": "", "still": None, "transcripts": transcripts}


def _story_data(view: JourneyView, items: dict[int, dict[str, Any]], identity: Identity,
                exported: date) -> dict[str, Any]:
    journey = view.as_json()
    legs = []
    for leg, leg_json in zip(view.legs, journey.pop("legs")):
        leg_json.pop("footage")
        leg_json["date_label"] = leg.date_label
        leg_json["clips"] = [{"item": film.item.id, "start": film.start_sec, "end": film.end_sec}
                             for film in leg.footage]
        legs.append(leg_json)
    return {"journey": journey, "legs": legs, "items": items, "geojson": journey_geojson(view),
            "stops": [stop.name for stop in view.stops],
            "archive": {"name": identity.name, "url": identity.base_url, "contact": identity.contact_email},
            "exported": exported.isoformat()}


# -- writing -----------------------------------------------------------------------------------

def _inline_json(value: Any) -> str:
    """JSON safe inside <script type="application/json">: no "</script>" or "<!--" can end the block."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _write_pages(root: Path, data: dict[str, Any]) -> None:
    env = Environment(loader=FileSystemLoader(ASSETS), autoescape=select_autoescape(["html", "j2"]))
    env.filters["inline_json"] = _inline_json
    countries = json.loads(COUNTRIES.read_text(encoding="utf-8"))
    for page in ("index.html", "handout.html"):
        html = env.get_template(page + ".j2").render(data=data, countries=countries)
        (root / page).write_text(html, encoding="utf-8")


def _copy_assets(root: Path) -> None:
    for name in ("story.js", "story.css"):
        shutil.copyfile(ASSETS / name, root / name)
    for name in LEAFLET_FILES:
        dest = root / "vendor" / "leaflet" / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(LEAFLET_DIST / name, dest)
    licence = LEAFLET_DIST.parent / "LICENSE"
    if licence.exists():
        shutil.copyfile(licence, root / "vendor" / "leaflet" / "LICENSE")


def _zip(folder: Path, zip_path: Path) -> None:
    """The folder as one zip, under a top folder of its name (media is stored: it is compressed already)."""
    partial = zip_path.with_name(zip_path.name + ".partial")
    with zipfile.ZipFile(partial, "w") as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                compress = zipfile.ZIP_STORED if path.parent.name in ("media", "stills") else zipfile.ZIP_DEFLATED
                bundle.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}", compress_type=compress)
    partial.replace(zip_path)
