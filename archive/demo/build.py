"""Build the demo archive from demo.toml: vocabulary, collections, generated media, items.

Idempotent: every demo item carries a stable key in its `source` ("Crossings demo material
(synthetic): <key>"), and keys already in the catalogue are skipped, so a second run changes
nothing and an interrupted run is completed by the next. Collections, tags and people are only
created when missing, never overwritten, so a curator's later edits survive a re-run. So are the
transcripts of transcripts.toml: one is imported when its item has none in that language and kind.
"""

from __future__ import annotations

import tempfile
import time
import tomllib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.dates import parse_date
from archive.demo import media, paint
from archive.demo.journey import add_demo_journey
from archive.models import AccessLevel, Collection, Item, MediaFile, Person, Tag, Transcript, TranscriptKind
from archive.services import Invalid
from archive.services.editing import (add_credit, get_or_create_person, get_or_create_tag, set_item_tags,
                                      update_item, upsert_collection)
from archive.services.ingest import IngestOptions, display_path, ingest_paths
from archive.services.transcripts import import_transcript
from archive.transcripts import parse_transcript

if TYPE_CHECKING:
    from archive.core import Archive

DATA_FILE = Path(__file__).with_name("demo.toml")
TRANSCRIPTS_FILE = Path(__file__).with_name("transcripts.toml")
SOURCE_PREFIX = "Crossings demo material (synthetic): "
#: Generated files are staged in a temporary folder with this prefix (recorded as original_path).
TMP_PREFIX = "crossings-demo-"


class DemoDataError(ValueError):
    """demo.toml is inconsistent; the message names the file and the entry."""


@dataclass(frozen=True)
class CreditSpec:
    name: str
    role: str


@dataclass(frozen=True)
class CollectionSpec:
    key: str
    title: str
    year: int | None
    kind: str
    synopsis: str
    description: str
    rights: str
    credits: tuple[CreditSpec, ...]


@dataclass(frozen=True)
class ItemSpec:
    key: str
    collection: str  #: key of a CollectionSpec
    title: str
    date: str  #: EDTF
    creator: str
    language: str
    access: AccessLevel
    tags: tuple[str, ...]
    credits: tuple[CreditSpec, ...]
    description: str
    recipe: media.Recipe


@dataclass(frozen=True)
class TranscriptSpec:
    item: str  #: key of an ItemSpec
    language: str
    kind: TranscriptKind
    vtt: str  #: the WebVTT file's text

    @property
    def filename(self) -> str:
        """The name it is imported under, as a sidecar file of the clip would be called."""
        kind = "" if self.kind is TranscriptKind.transcript else f".{self.kind.value}"
        return f"{self.item}{kind}.{self.language}.vtt"


@dataclass(frozen=True)
class DemoData:
    notice: str  #: appended to every item description
    rights: str
    tags: tuple[tuple[str, str | None], ...]  #: (name, broader term), broader terms first
    people: tuple[tuple[str, str], ...]  #: (name, note) of the fictional people
    collections: tuple[CollectionSpec, ...]
    items: tuple[ItemSpec, ...]
    transcripts: tuple[TranscriptSpec, ...] = ()


def _credits(raw: Iterable[dict[str, str]]) -> tuple[CreditSpec, ...]:
    return tuple(CreditSpec(c["name"], c["role"]) for c in raw)


def load_demo(path: Path = DATA_FILE, transcripts: Path = TRANSCRIPTS_FILE) -> DemoData:
    """Read and check demo.toml and transcripts.toml; raise DemoDataError naming the entry that is wrong."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DemoDataError(f"{path}: {exc}") from exc
    tags = tuple((t["name"], t.get("parent")) for t in raw["tags"])
    people = tuple((p["name"], p["note"]) for p in raw["people"])
    collections = tuple(CollectionSpec(c["key"], c["title"], c.get("year"), c.get("kind", ""), c["synopsis"],
                                       c.get("description", ""), c.get("rights", ""), _credits(c.get("credits", ())))
                        for c in raw["collections"])
    vocabulary, fictional = {name for name, _ in tags}, {name for name, _ in people}
    collection_keys = {c.key for c in collections}
    items: list[ItemSpec] = []
    for entry in raw["items"]:
        key = entry.get("key", "?")
        where = f"{path}: item {key!r}"
        try:
            spec = ItemSpec(key, entry["collection"], entry["title"], entry["date"], entry["creator"],
                            entry["language"], AccessLevel(entry["access"]), tuple(entry["tags"]),
                            _credits(entry.get("credits", ())), entry["description"].strip(),
                            media.Recipe.from_toml(key, entry["media"], raw["route"]))
            parse_date(spec.date)
        except (KeyError, ValueError, TypeError) as exc:
            raise DemoDataError(f"{where}: {type(exc).__name__}: {exc}") from exc
        if spec.collection not in collection_keys:
            raise DemoDataError(f"{where}: no collection with key {spec.collection!r}")
        if unknown := set(spec.tags) - vocabulary:
            raise DemoDataError(f"{where}: tags {sorted(unknown)} are not in the vocabulary")
        if real := {c.name for c in spec.credits} - fictional:  # items credit fictional people only
            raise DemoDataError(f"{where}: credits {sorted(real)} are not declared fictional people")
        if any(spec.key == other.key for other in items):
            raise DemoDataError(f"{where}: the key is used twice")
        items.append(spec)
    return DemoData(raw["notice"].strip(), raw["rights"].strip(), tags, people, collections, tuple(items),
                    load_transcripts(transcripts, items))


def load_transcripts(path: Path, items: Iterable[ItemSpec]) -> tuple[TranscriptSpec, ...]:
    """Read and check transcripts.toml against the items (see the rules at its top)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DemoDataError(f"{path}: {exc}") from exc
    recipes = {spec.key: spec.recipe for spec in items}
    specs: list[TranscriptSpec] = []
    for entry in raw.get("transcripts", ()):
        where = f"{path}: transcript of {entry.get('item', '?')!r} in {entry.get('language', '?')!r}"
        try:
            spec = TranscriptSpec(entry["item"], entry["language"], TranscriptKind(entry["kind"]), entry["vtt"])
            parsed = parse_transcript(spec.vtt.encode("utf-8"), spec.filename)
        except (KeyError, ValueError) as exc:  # TranscriptError is a ValueError and names the line
            raise DemoDataError(f"{where}: {type(exc).__name__}: {exc}") from exc
        recipe = recipes.get(spec.item)
        if recipe is None or recipe.type not in ("video", "audio"):
            raise DemoDataError(f"{where}: {spec.item!r} is not the key of a video or audio item")
        if any((s.item, s.language, s.kind) == (spec.item, spec.language, spec.kind) for s in specs):
            raise DemoDataError(f"{where}: a second {spec.kind.value} in that language")
        problems = [str(p) for p in parsed.problems]
        problems += [f"line {c.line}: the speaker {c.speaker!r} is not marked (fictional)"
                     for c in parsed.cues if "(fictional)" not in c.speaker]
        problems += [f"line {c.line}: ends at {c.end:g} s, after the clip's {recipe.seconds:g} s"
                     for c in parsed.cues if c.end > recipe.seconds]
        problems += [f"line {c.line}: starts at {c.start:g} s, while the clip is still dark ({recipe.fade_in:g} s)"
                     for c in parsed.cues if c.start < recipe.fade_in]
        if problems:
            raise DemoDataError(f"{where}: {'; '.join(problems)}")
        specs.append(spec)
    return tuple(specs)


# -- progress and report ----------------------------------------------------------------------

class Progress(Protocol):
    def stage(self, name: str, total: int) -> None: ...
    def advance(self, label: str) -> None: ...


class Quiet:
    def stage(self, name: str, total: int) -> None:
        pass

    def advance(self, label: str) -> None:
        pass


@dataclass
class DemoReport:
    data_root: Path
    created: list[str] = field(default_factory=list)  #: keys of items made by this run
    present: list[str] = field(default_factory=list)  #: keys found already in the catalogue
    failed: list[tuple[str, str]] = field(default_factory=list)  #: (key, reason)
    collections_created: list[str] = field(default_factory=list)
    transcripts_added: list[str] = field(default_factory=list)  #: file names of the transcripts imported
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.failed


# -- building ---------------------------------------------------------------------------------

def build_demo(archive: Archive, progress: Progress | None = None, *, data: DemoData | None = None) -> DemoReport:
    """Add whatever part of the demo archive is missing; see the module docstring."""
    started = time.monotonic()
    progress = progress or Quiet()
    data = data or load_demo()
    report = DemoReport(archive.data_root)
    with archive.session() as session:
        collection_ids, report.collections_created = _catalogue(session, data)
        known = _present_keys(session)
    report.present = [spec.key for spec in data.items if spec.key in known]
    todo = [spec for spec in data.items if spec.key not in known]
    if todo:
        made = _orphans(archive, todo)  # ingested by a run that stopped before describing them
        rest = [spec for spec in todo if spec.key not in made]
        with tempfile.TemporaryDirectory(prefix=TMP_PREFIX) as tmp:
            files = _generate(archive, rest, Path(tmp), progress, report)
            made.update(_ingest(archive, files, progress, report))
        progress.stage("cataloguing", len(made))
        for spec in todo:
            if spec.key in made:
                try:
                    with archive.session() as session:
                        _describe(session, session.get(Item, made[spec.key]), spec, data, collection_ids)
                    report.created.append(spec.key)
                except Invalid as exc:
                    report.failed.append((spec.key, f"{exc} (field {exc.field})"))
                progress.advance(spec.key)
    _transcribe(archive, data, progress, report)
    report.failed.extend(add_demo_journey(archive, data))  # places, crossings, the journey; links items to them
    report.seconds = time.monotonic() - started
    return report


def _catalogue(session: Session, data: DemoData) -> tuple[dict[str, int], list[str]]:
    """Create missing tags, fictional people and collections with their credits."""
    for name, parent in data.tags:
        if session.scalar(select(Tag.id).where(Tag.name == name)) is None:
            get_or_create_tag(session, name, get_or_create_tag(session, parent) if parent else None)
    for name, note in data.people:
        if session.scalar(select(Person.id).where(Person.name == name)) is None:
            get_or_create_person(session, name, note=note)
    ids, created = {}, []
    for spec in data.collections:
        collection = session.scalar(select(Collection).where(Collection.title == spec.title))
        if collection is None:
            collection, _ = upsert_collection(session, spec.title, year=spec.year, kind=spec.kind,
                                              synopsis=spec.synopsis, description=spec.description,
                                              rights=spec.rights)
            for credit in spec.credits:
                add_credit(session, get_or_create_person(session, credit.name), credit.role, collection=collection)
            created.append(spec.title)
        ids[spec.key] = collection.id
    return ids, created


def _present_keys(session: Session) -> set[str]:
    sources = session.scalars(select(Item.source).where(Item.source.startswith(SOURCE_PREFIX, autoescape=True)))
    return {source[len(SOURCE_PREFIX):].strip() for source in sources}


def _orphans(archive: Archive, todo: list[ItemSpec]) -> dict[str, int]:
    """Items ingested from a demo staging folder but never described: key → item id."""
    wanted = {f"{spec.key}.{media.extension(spec.recipe)}": spec.key for spec in todo}
    with archive.Session() as session:
        rows = session.execute(select(Item.id, MediaFile.original_name, MediaFile.original_path)
                               .join(MediaFile).where(Item.source == "")).all()
    return {wanted[name]: item_id for item_id, name, path in rows if name in wanted and TMP_PREFIX in path}


def _generate(archive: Archive, specs: list[ItemSpec], out_dir: Path, progress: Progress,
              report: DemoReport) -> dict[Path, str]:
    """Make the media files in a small thread pool (ffmpeg runs outside the GIL); file → key."""
    fonts = paint.Fonts.find()
    progress.stage("generating media", len(specs))
    files: dict[Path, str] = {}
    with ThreadPoolExecutor(max_workers=archive.settings["ingest_workers"]) as pool:
        futures = {pool.submit(media.generate, spec.recipe, out_dir, fonts,
                               timeout=archive.settings["ffmpeg_timeout"]): spec.key for spec in specs}
        for future in as_completed(futures):
            key = futures[future]
            try:
                files[future.result()] = key
            except (media.MediaError, OSError, ValueError) as exc:
                report.failed.append((key, f"could not generate its media: {exc}"))
            progress.advance(key)
    return files


def _ingest(archive: Archive, files: dict[Path, str], progress: Progress, report: DemoReport) -> dict[str, int]:
    """Ingest the generated files; key → new item id.

    Items arrive confidential and outside any collection, and only get their real access level
    with their description, so that nothing half-catalogued is ever public.
    """
    if not files:
        return {}
    by_path = {display_path(path): key for path, key in files.items()}
    progress.stage("ingesting", len(files))
    result = ingest_paths(archive, sorted(files), IngestOptions(access=AccessLevel.confidential),
                          lambda outcome, path, detail: progress.advance(files.get(path, path.name)))
    made = {by_path[entry["path"]]: entry["item_id"] for entry in result.ingested}
    with archive.Session() as session:
        for entry in result.duplicates:  # the same bytes were ingested before: adopt them if undescribed
            key, item = by_path[entry["path"]], session.get(Item, entry["item_id"])
            if item is not None and item.source == "":
                made[key] = item.id
            else:
                report.failed.append((key, f"its generated file is already item {entry['item_id']}"))
    report.failed.extend((by_path[entry["path"]], entry["reason"]) for entry in result.failed)
    return made


def _describe(session: Session, item: Item, spec: ItemSpec, data: DemoData, collection_ids: dict[str, int]) -> None:
    """Give a freshly ingested item its catalogue record; the key goes in last, with the rest."""
    update_item(session, item, title=spec.title, description=f"{spec.description}\n\n{data.notice}",
                date_shot=spec.date, creator=spec.creator, language=spec.language, rights=data.rights,
                access=spec.access, collection_id=collection_ids[spec.collection],
                source=SOURCE_PREFIX + spec.key)
    set_item_tags(session, item, list(spec.tags))
    for credit in spec.credits:
        add_credit(session, get_or_create_person(session, credit.name), credit.role, item=item)


def _transcribe(archive: Archive, data: DemoData, progress: Progress, report: DemoReport) -> None:
    """Import each demo transcript whose item is catalogued and has none in its language and kind."""
    with archive.session() as session:
        items = {source[len(SOURCE_PREFIX):].strip(): item_id for item_id, source in session.execute(
            select(Item.id, Item.source).where(Item.source.startswith(SOURCE_PREFIX, autoescape=True)))}
        present = {tuple(row) for row in session.execute(select(Transcript.item_id, Transcript.language,
                                                                Transcript.kind))}
        todo = [spec for spec in data.transcripts
                if spec.item in items and (items[spec.item], spec.language, spec.kind) not in present]
        if todo:
            progress.stage("transcripts", len(todo))
        for spec in todo:
            try:
                import_transcript(session, session.get(Item, items[spec.item]), spec.vtt.encode("utf-8"),
                                  spec.filename, language=spec.language, kind=spec.kind)
                report.transcripts_added.append(spec.filename)
            except Invalid as exc:  # refused before anything was written: the others go on
                report.failed.append((spec.item, f"transcript {exc}"))
            progress.advance(spec.filename)


def summary(report: DemoReport) -> str:
    """One or two lines for the command line."""
    if not report.created and not report.failed and not report.transcripts_added:
        return (f"The demo is already complete: all {len(report.present)} items are in {report.data_root}; "
                "nothing was changed.")
    lines = [f"Demo archive in {report.data_root}: {len(report.created)} items created, "
             f"{len(report.present)} already present, {len(report.failed)} failed "
             f"({len(report.collections_created)} collections created, "
             f"{len(report.transcripts_added)} transcripts added) in {report.seconds:.0f} s."]
    if report.failed:
        lines.append("Run `crossings demo` again to retry the failed items.")
    return "\n".join(lines)
