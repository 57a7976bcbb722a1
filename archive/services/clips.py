"""Clips: a span of an item to link to and cite, and accounts' named lists of them.

A list belongs to its owner, who orders it and may share it read-only with other accounts. Whoever
reads a list sees only the clips whose items they may see (archive.access): to someone a list is
shared with, any other clip does not exist. Only the owner is told how many of their own clips they
can no longer see (an item trashed, a grant expired), never what they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from archive.access import Viewer, can_see, item_filter
from archive.dates import describe
from archive.models import Clip, ClipList, ClipShare, Item, ItemKind, User
from archive.services import Invalid, NotFound
from archive.timecode import FORMS, format_timecode, parse_timecode, seconds_param

#: A list's name and a clip's note, as long as their columns allow.
NAME_LENGTH, NOTE_LENGTH = 200, 2000
#: The citation styles offered, in the order shown.
STYLES = {"chicago": "Chicago", "apa": "APA", "mla": "MLA"}


# -- a span: t=START,END ---------------------------------------------------------------------

def parse_span(text: str, *, duration: float | None = None) -> tuple[float, float | None]:
    """(start, end) from a `t=` value as in W3C media fragments: "75", "75,90", "0:01:15,0:01:30.5",
    "npt:75,90" (end None when only a start is given). Raises Invalid naming the forms accepted."""
    raw = text.strip()
    if raw.startswith("npt:"):
        raw = raw[4:]
    start_text, _, end_text = raw.partition(",")
    try:
        start = parse_timecode(start_text) if start_text else 0.0
        end = parse_timecode(end_text) if end_text else None
    except ValueError as exc:
        raise Invalid(f"t={text!r}: {exc}; a span is START,END", "t") from None
    if end is not None and end <= start:
        raise Invalid(f"t={text!r}: the end ({end:g} s) must come after the start ({start:g} s)", "t")
    if duration is not None and (start >= duration or (end is not None and end > duration + 0.05)):
        raise Invalid(f"t={text!r}: the media is {format_timecode(duration)} long", "t")
    return start, end


def span_param(start: float, end: float | None = None) -> str:
    """The `t=` value of a span: "75,90.5"; "75" with no end."""
    return seconds_param(start) if end is None else f"{seconds_param(start)},{seconds_param(end)}"


def moment_path(pid: str, start: float, end: float | None = None) -> str:
    """The path (from the site root) that resolves the item's persistent identifier at a span."""
    return f"/id/{pid}?t={span_param(start, end)}"


def item_by_pid(session: Session, viewer: Viewer, pid: str) -> Item:
    """The item with persistent identifier `pid`, or NotFound when there is none `viewer` may see."""
    item = session.scalar(select(Item).where(Item.pid == pid, item_filter(viewer)))
    if item is None:
        raise NotFound(f"identifier {pid}")
    return item


# -- citations --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Citation:
    style: str  #: a key of STYLES
    label: str
    text: str


def _medium(item: Item) -> str:
    return {ItemKind.video: "Video", ItemKind.audio: "Audio recording"}.get(item.kind, "Photograph")


def _long_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def cite_clip(item: Item, start: float, end: float, *, url: str, archive_name: str, accessed: date) -> list[Citation]:
    """The clip cited in each of STYLES: title, collection, creator, date shot, archive, in–out, URL and access date."""
    span = f"{format_timecode(start)}–{format_timecode(end)}"
    creator = item.creator.strip()
    shot = describe(item.date_shot) if item.date_shot else "n.d."
    collection = item.collection.title if item.collection else ""
    where = ", ".join(part for part in (collection, archive_name) if part)
    lead = f"{creator}. " if creator else ""
    shot_sentence = shot[:1].upper() + shot[1:] + ("" if shot.endswith(".") else ".")
    chicago = (f'{lead}“{item.title}.” {_medium(item)}, {span}. {shot_sentence} {where}. '
               f'{url} (accessed {_long_date(accessed)}).')
    # APA: the author first, then the date; without an author the title takes its place.
    work = f"{item.title} [{_medium(item)}; {span}]."
    apa = (f"{creator}. ({shot}). {work}" if creator else f"{work} ({shot}).") + \
        f" {where}. Retrieved {_long_date(accessed)}, from {url}"
    mla = (f'{lead}“{item.title}.” {where}, {shot}, {span}. {url}. '
           f'Accessed {accessed.day} {accessed:%b}. {accessed.year}.')
    texts = {"chicago": chicago, "apa": apa, "mla": mla}
    return [Citation(style, label, texts[style]) for style, label in STYLES.items()]


# -- lists ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ListView:
    """A list as `viewer` may read it: the clips they may see, in order, and (owners only) how many they may not."""
    clip_list: ClipList
    clips: list[Clip]
    is_owner: bool
    #: The owner's own clips whose items they can no longer see; 0 to anyone else, whatever it is.
    unavailable: int


def _account(viewer: Viewer) -> int:
    if viewer.user_id is None:
        raise NotFound("clip lists belong to accounts")
    return viewer.user_id


def _readable(viewer: Viewer):  # type: ignore[no-untyped-def]
    user_id = _account(viewer)
    return or_(ClipList.owner_id == user_id,
               ClipList.id.in_(select(ClipShare.list_id).where(ClipShare.user_id == user_id)))


def _visible_counts(session: Session, viewer: Viewer, list_ids: list[int]) -> dict[int, int]:
    rows = session.execute(select(Clip.list_id, func.count()).join(Item, Item.id == Clip.item_id)
                           .where(Clip.list_id.in_(list_ids), item_filter(viewer)).group_by(Clip.list_id))
    return {list_id: count for list_id, count in rows}


def lists_for(session: Session, viewer: Viewer) -> tuple[list[tuple[ClipList, int]], list[tuple[ClipList, int]]]:
    """(the viewer's own lists, the lists shared with them), each with the number of clips the viewer may see."""
    found = list(session.scalars(select(ClipList).where(_readable(viewer))
                                 .options(selectinload(ClipList.owner)).order_by(ClipList.name, ClipList.id)))
    counts = _visible_counts(session, viewer, [c.id for c in found])
    owned = [(c, counts.get(c.id, 0)) for c in found if c.owner_id == viewer.user_id]
    shared = [(c, counts.get(c.id, 0)) for c in found if c.owner_id != viewer.user_id]
    return owned, shared


def _name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise Invalid("give the list a name", "name")
    if len(name) > NAME_LENGTH:
        raise Invalid(f"a list's name has at most {NAME_LENGTH} characters", "name")
    return name


def create_list(session: Session, viewer: Viewer, name: str) -> ClipList:
    clip_list = ClipList(owner_id=_account(viewer), name=_name(name))
    session.add(clip_list)
    session.flush()
    return clip_list


def get_list(session: Session, viewer: Viewer, list_id: int) -> ListView:
    """The list as `viewer` may read it; NotFound unless they own it or it is shared with them."""
    clip_list = session.scalar(select(ClipList).where(ClipList.id == list_id, _readable(viewer))
                               .options(selectinload(ClipList.shares).selectinload(ClipShare.user)))
    if clip_list is None:
        raise NotFound(f"clip list {list_id}")
    visible = list(session.scalars(
        select(Clip).join(Item, Item.id == Clip.item_id).where(Clip.list_id == list_id, item_filter(viewer))
        .options(selectinload(Clip.item).selectinload(Item.collection)).order_by(Clip.position, Clip.id)))
    is_owner = clip_list.owner_id == viewer.user_id
    unavailable = 0
    if is_owner:
        total = session.scalar(select(func.count()).select_from(Clip).where(Clip.list_id == list_id)) or 0
        unavailable = total - len(visible)
    return ListView(clip_list, visible, is_owner, unavailable)


def _owned(session: Session, viewer: Viewer, list_id: int) -> ClipList:
    """The list, to change: NotFound for anyone but its owner (a shared list is read-only)."""
    clip_list = session.get(ClipList, list_id)
    if clip_list is None or clip_list.owner_id != _account(viewer):
        raise NotFound(f"clip list {list_id}")
    return clip_list


def rename_list(session: Session, viewer: Viewer, list_id: int, name: str) -> ClipList:
    clip_list = _owned(session, viewer, list_id)
    clip_list.name = _name(name)
    session.flush()
    return clip_list


def delete_list(session: Session, viewer: Viewer, list_id: int) -> None:
    session.delete(_owned(session, viewer, list_id))
    session.flush()


def add_clip(session: Session, viewer: Viewer, list_id: int, item_id: int, start: float, end: float,
             note: str = "") -> Clip:
    """Keep the span `start`–`end` (seconds) of an item the owner may see at the end of their list."""
    clip_list = _owned(session, viewer, list_id)
    item = session.get(Item, item_id)
    if item is None or not can_see(viewer, item):
        raise NotFound(f"item {item_id}")
    if item.kind not in (ItemKind.video, ItemKind.audio):
        raise Invalid("only footage and recordings have clips", "t")
    duration = item.media.duration if item.media else None
    if not (0 <= start < end) or (duration is not None and end > duration + 0.05):
        raise Invalid(f"a clip runs from its in to a later out, within the media"
                      f"{f' ({format_timecode(duration)})' if duration else ''}", "t")
    note = note.strip()
    if len(note) > NOTE_LENGTH:
        raise Invalid(f"a note has at most {NOTE_LENGTH} characters", "note")
    last = session.scalar(select(func.max(Clip.position)).where(Clip.list_id == list_id))
    clip = Clip(list_id=clip_list.id, item_id=item.id, start_sec=start, end_sec=end, note=note,
                position=(last + 1) if last is not None else 0)
    session.add(clip)
    session.flush()
    return clip


def _clip(session: Session, viewer: Viewer, list_id: int, clip_id: int) -> tuple[ClipList, Clip]:
    clip_list = _owned(session, viewer, list_id)
    clip = next((c for c in clip_list.clips if c.id == clip_id), None)
    if clip is None:
        raise NotFound(f"clip {clip_id}")
    return clip_list, clip


def remove_clip(session: Session, viewer: Viewer, list_id: int, clip_id: int) -> None:
    clip_list, clip = _clip(session, viewer, list_id, clip_id)
    clip_list.clips.remove(clip)
    session.flush()


def move_clip(session: Session, viewer: Viewer, list_id: int, clip_id: int, offset: int) -> None:
    """Move a clip `offset` places (-1: up, 1: down) past the clips the owner can see; hidden ones keep their place."""
    clip_list, clip = _clip(session, viewer, list_id, clip_id)
    if offset not in (-1, 1):
        raise Invalid("a clip moves one place up or down", "direction")
    order = list(clip_list.clips)
    visible = [c for c in order if can_see(viewer, c.item)]
    if clip not in visible:
        raise NotFound(f"clip {clip_id}")
    index = visible.index(clip)
    if 0 <= index + offset < len(visible):
        other = visible[index + offset]
        a, b = order.index(clip), order.index(other)
        order[a], order[b] = other, clip
    for position, each in enumerate(order):
        each.position = position
    session.flush()


def share_list(session: Session, viewer: Viewer, list_id: int, username: str) -> User:
    """Let the account `username` read the list."""
    clip_list = _owned(session, viewer, list_id)
    user = session.scalar(select(User).where(User.username == username.strip(), User.active.is_(True)))
    if user is None:
        raise Invalid(f"there is no account {username.strip()!r}", "username")
    if user.id == clip_list.owner_id:
        raise Invalid("the list is already yours", "username")
    if all(share.user_id != user.id for share in clip_list.shares):
        clip_list.shares.append(ClipShare(user_id=user.id))
        session.flush()
    return user


def unshare_list(session: Session, viewer: Viewer, list_id: int, user_id: int) -> None:
    clip_list = _owned(session, viewer, list_id)
    share = next((s for s in clip_list.shares if s.user_id == user_id), None)
    if share is None:
        raise NotFound(f"share with account {user_id}")
    clip_list.shares.remove(share)
    session.flush()


def parse_clip_times(start_text: str, end_text: str) -> tuple[float, float]:
    """In and out from a form's fields, each in any timecode form; Invalid naming the field."""
    times = []
    for name, text in (("start", start_text), ("end", end_text)):
        try:
            times.append(parse_timecode(text))
        except ValueError:
            raise Invalid(f"{text!r} is not a time: write {FORMS}", name) from None
    if times[1] <= times[0]:
        raise Invalid("the out must come after the in", "end")
    return times[0], times[1]
