"""The tag vocabulary: the tree and its counts per viewer, rename, broader terms, merge and delete."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.access import ANONYMOUS, Role, Viewer
from archive.core import Archive
from archive.models import AccessLevel, AuditEntry, Item, ItemKind, Tag, TimeRange
from archive.services import Invalid, NotFound, Stale, ranges, saving_version, vocabulary
from archive.services.vocabulary import TagNode
from conftest import csrf_token
from test_web import RESEARCHER, add_item, text

MINA = Viewer(role=Role.archivist, user_id=None, name="mina")
ADMIN = Viewer(role=Role.admin, name="admin")


def _tag(archive: Archive, name: str, parent: str | None = None) -> int:
    with archive.session(MINA) as session:
        tag = session.scalar(select(Tag).where(Tag.name == name)) or Tag(name=name)
        if parent is not None:
            tag.parent = session.scalar(select(Tag).where(Tag.name == parent)) or Tag(name=parent)
        session.add(tag)
        session.flush()
        return tag.id


def _range(archive: Archive, item_id: int, tag: str, start: float = 1, end: float = 2) -> int:
    with archive.session(MINA) as session:
        return ranges.add_range(session, session.get(Item, item_id), start=start, end=end, tag_name=tag).id


def _id(archive: Archive, name: str) -> int:
    with archive.Session() as session:
        tag_id = session.scalar(select(Tag.id).where(Tag.name == name))
        assert tag_id is not None, name
        return tag_id


def _shape(nodes: list[TagNode]) -> list[object]:
    """The tree as [(name, items, ranges, [children...]), ...]."""
    return [(n.tag.name, n.items, n.ranges, _shape(n.children)) for n in nodes]


def _tree(archive: Archive, viewer: Viewer) -> list[object]:
    with archive.Session() as session:
        return _shape(vocabulary.tag_tree(session, viewer))


def _parents(archive: Archive) -> dict[str, str | None]:
    with archive.Session() as session:
        return {t.name: t.parent.name if t.parent else None for t in session.scalars(select(Tag))}


@pytest.fixture
def catalogue(archive: Archive) -> dict[str, int]:
    """Rivers > Tumen, Mekong; "safe house" only on confidential footage; "broker" only on restricted."""
    ids = {
        "open": add_item(archive, "Open clip", kind=ItemKind.video, tags=("Tumen",), media={"duration": 10.0}),
        "also": add_item(archive, "Boat", tags=("Mekong", "Tumen")),
        "restricted": add_item(archive, "Broker call", kind=ItemKind.audio, access=AccessLevel.restricted,
                               tags=("broker", "Tumen")),
        "hidden": add_item(archive, "Safe house", kind=ItemKind.video, access=AccessLevel.confidential,
                           collection="Private donation", tags=("safe house",)),
    }
    _tag(archive, "Tumen", "Rivers")
    _tag(archive, "Mekong", "Rivers")
    _tag(archive, "Tumen", "Rivers")
    _range(archive, ids["open"], "Tumen", 1, 2)
    _range(archive, ids["open"], "dawn", 3, 4)
    _range(archive, ids["hidden"], "dawn", 1, 2)
    return ids


# -- the tree ---------------------------------------------------------------------------------

def test_tree_counts_only_what_each_viewer_may_see(archive: Archive, catalogue: dict[str, int]) -> None:
    rivers = ("Rivers", 0, 0, [("Mekong", 1, 0, []), ("Tumen", 2, 1, [])])
    assert _tree(archive, ANONYMOUS) == [("dawn", 0, 1, []), rivers]
    assert _tree(archive, RESEARCHER) == [
        ("broker", 1, 0, []), ("dawn", 0, 1, []), ("Rivers", 0, 0, [("Mekong", 1, 0, []), ("Tumen", 3, 1, [])])]
    assert _tree(archive, ADMIN) == [
        ("broker", 1, 0, []), ("dawn", 0, 2, []), ("Rivers", 0, 0, [("Mekong", 1, 0, []), ("Tumen", 3, 1, [])]),
        ("safe house", 1, 0, [])]


def test_editors_see_unused_tags_but_not_those_of_hidden_material(archive: Archive,
                                                                  catalogue: dict[str, int]) -> None:
    _tag(archive, "unused")

    names = [node[0] for node in _tree(archive, MINA)]

    # "safe house" is used only on confidential footage she has no grant for: its name stays hidden.
    assert names == ["broker", "dawn", "Rivers", "unused"]
    assert [node[0] for node in _tree(archive, ADMIN)] == ["broker", "dawn", "Rivers", "safe house", "unused"]


def test_tree_hides_a_broader_term_used_only_on_hidden_material(archive: Archive) -> None:
    add_item(archive, "Safe house", access=AccessLevel.confidential, collection="Private donation",
             tags=("Shenyang safe houses",))
    add_item(archive, "Station", tags=("Shenyang station",))
    _tag(archive, "Shenyang station", "Shenyang safe houses")
    _tag(archive, "Shenyang safe houses", "Cities")

    assert _tree(archive, ANONYMOUS) == [("Cities", 0, 0, [("Shenyang station", 1, 0, [])])]


def test_tree_survives_a_loop_made_outside_the_services(archive: Archive) -> None:
    add_item(archive, "Clip", tags=("a", "b"))
    with archive.session() as session:  # one change at a time, as two careless scripts might
        session.scalar(select(Tag).where(Tag.name == "a")).parent_id = _id(archive, "b")
    with archive.session() as session:
        session.scalar(select(Tag).where(Tag.name == "b")).parent_id = _id(archive, "a")

    assert _tree(archive, ANONYMOUS) == [("a", 1, 0, []), ("b", 1, 0, [])]


# -- rename and broader terms -------------------------------------------------------------------

def test_rename_tag_keeps_its_uses_and_is_labelled_in_the_audit_trail(archive: Archive,
                                                                      catalogue: dict[str, int]) -> None:
    tumen = _id(archive, "Tumen")
    with archive.session(MINA) as session:
        vocabulary.rename_tag(session, tumen, "  Tumen   river ")
    with archive.session(MINA) as session:
        vocabulary.rename_tag(session, tumen, "tumen river")  # only the case changes: no conflict with itself

    with archive.Session() as session:
        assert session.get(Tag, tumen).name == "tumen river"
        assert [t.name for t in session.get(Item, catalogue["open"]).tags] == ["tumen river"]
        entries = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "tag",
                                                           AuditEntry.object_id == tumen,
                                                           AuditEntry.action == "rename")).all()
    assert [e.changes["name"] for e in entries] == [["Tumen", "Tumen river"], ["Tumen river", "tumen river"]]


def test_rename_tag_moves_the_versions_of_its_items_only(archive: Archive, catalogue: dict[str, int]) -> None:
    """An item form opened before the rename still lists the old name: saving it must be refused as
    stale rather than quietly create the old tag again."""
    def versions() -> dict[str, int]:
        with archive.Session() as session:
            return {i.title: i.version for i in session.scalars(select(Item))}

    before = versions()
    with archive.session(MINA) as session:
        vocabulary.rename_tag(session, _id(archive, "Tumen"), "Tumen river")
    after = versions()
    moved = {title for title in before if after[title] != before[title]}
    assert moved == {"Open clip", "Boat", "Broker call"}
    with archive.session(MINA) as session, pytest.raises(Stale):
        with saving_version(session.get(Item, catalogue["open"]), "item", before["Open clip"]):
            pass


@pytest.mark.parametrize("name, message", [
    ("mekong", "there is already a tag 'Mekong'; to make one term of the two, merge 'Tumen' into 'Mekong' instead"),
    ("   ", "give the tag's name"),
    ("x" * 201, "a tag name is at most 200 characters"),
])
def test_rename_tag_refuses_a_taken_or_empty_name(archive: Archive, catalogue: dict[str, int], name: str,
                                                  message: str) -> None:
    with archive.session(MINA) as session:
        with pytest.raises(Invalid) as caught:
            vocabulary.rename_tag(session, _id(archive, "Tumen"), name)
    assert (str(caught.value), caught.value.field) == (message, "name")


def test_set_parent_moves_and_clears_a_broader_term(archive: Archive, catalogue: dict[str, int]) -> None:
    with archive.session(MINA) as session:
        vocabulary.set_parent(session, _id(archive, "Rivers"), _id(archive, "dawn"))
        vocabulary.set_parent(session, _id(archive, "Mekong"), None)

    parents = _parents(archive)
    assert (parents["Rivers"], parents["Mekong"], parents["Tumen"]) == ("dawn", None, "Rivers")


@pytest.mark.parametrize("tag, parent, message", [
    ("Rivers", "Rivers", "'Rivers' cannot go under itself: that would make a loop"),
    ("Rivers", "Tumen", "'Rivers' cannot go under 'Tumen', which is under it: that would make a loop"),
])
def test_set_parent_refuses_loops(archive: Archive, catalogue: dict[str, int], tag: str, parent: str,
                                  message: str) -> None:
    _tag(archive, "Upper Tumen", "Tumen")
    with archive.session(MINA) as session:
        with pytest.raises(Invalid) as caught:
            vocabulary.set_parent(session, _id(archive, tag), _id(archive, parent))
        assert (str(caught.value), caught.value.field) == (message, "parent")
        with pytest.raises(Invalid, match="under 'Upper Tumen', which is under it"):
            vocabulary.set_parent(session, _id(archive, "Rivers"), _id(archive, "Upper Tumen"))
    assert _parents(archive)["Rivers"] is None


# -- merge ------------------------------------------------------------------------------------

def test_merge_moves_item_tags_ranges_and_narrower_terms_and_removes_the_source(
        archive: Archive, catalogue: dict[str, int]) -> None:
    _tag(archive, "Upper Tumen", "Tumen")
    tumen, mekong = _id(archive, "Tumen"), _id(archive, "Mekong")

    with archive.session(MINA) as session:
        result = vocabulary.merge_tags(session, tumen, mekong)
        assert (result.target.name, result.items, result.ranges, result.children) == ("Mekong", 3, 1, 1)

    with archive.Session() as session:
        assert session.get(Tag, tumen) is None
        tags = {i.title: [t.name for t in i.tags] for i in session.scalars(select(Item))}
        range_tags = [r.tag.name for r in session.scalars(select(TimeRange).order_by(TimeRange.id))]
    assert tags == {"Open clip": ["Mekong"], "Boat": ["Mekong"], "Broker call": ["Mekong", "broker"],
                    "Safe house": ["safe house"]}
    assert range_tags == ["Mekong", "dawn", "dawn"]
    assert _parents(archive)["Upper Tumen"] == "Mekong"


def test_merge_is_recorded_as_one_batch(archive: Archive, catalogue: dict[str, int]) -> None:
    tumen = _id(archive, "Tumen")
    with archive.session(MINA) as session:
        vocabulary.merge_tags(session, tumen, _id(archive, "Mekong"))

    with archive.Session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.batch != "")).all()
    assert len({e.batch for e in entries}) == 1 and {e.actor for e in entries} == {"mina"}
    actions = sorted((e.object_type, e.action, e.object_label) for e in entries)
    assert actions == [("item", "merge", "Boat"), ("item", "merge", "Broker call"), ("item", "merge", "Open clip"),
                       ("range", "merge", "Mekong 1–2 s of Open clip"), ("tag", "purge", "Tumen")]
    boat = next(e for e in entries if e.object_label == "Boat")
    assert boat.changes == {"tags": [["Mekong", "Tumen"], ["Mekong"]]}


def test_merge_into_a_narrower_term_lifts_it_into_the_source_place(archive: Archive,
                                                                   catalogue: dict[str, int]) -> None:
    _tag(archive, "Rivers", "Geography")
    _tag(archive, "Upper Tumen", "Tumen")
    with archive.session(MINA) as session:
        vocabulary.merge_tags(session, _id(archive, "Rivers"), _id(archive, "Upper Tumen"))

    parents = _parents(archive)
    assert "Rivers" not in parents
    assert (parents["Upper Tumen"], parents["Tumen"], parents["Mekong"]) == ("Geography", "Upper Tumen", "Upper Tumen")


def test_merge_refuses_a_tag_into_itself_and_unknown_tags(archive: Archive, catalogue: dict[str, int]) -> None:
    tumen = _id(archive, "Tumen")
    with archive.session(MINA) as session:
        with pytest.raises(Invalid) as caught:
            vocabulary.merge_tags(session, tumen, tumen)
        assert caught.value.field == "target"
        with pytest.raises(NotFound):
            vocabulary.merge_tags(session, tumen, 9999)


# -- delete -------------------------------------------------------------------------------------

def test_delete_tag_removes_an_unused_tag_and_lifts_its_narrower_terms(archive: Archive,
                                                                       catalogue: dict[str, int]) -> None:
    _tag(archive, "Rivers", "Geography")
    with archive.session(MINA) as session:
        vocabulary.delete_tag(session, _id(archive, "Rivers"))

    parents = _parents(archive)
    assert "Rivers" not in parents and parents["Tumen"] == parents["Mekong"] == "Geography"


@pytest.mark.parametrize("name", ["Tumen", "dawn", "safe house"])  # items, ranges only, hidden items only
def test_delete_tag_refuses_a_tag_in_use(archive: Archive, catalogue: dict[str, int], name: str) -> None:
    with archive.session(MINA) as session:
        with pytest.raises(Invalid, match="still in use; merge it"):
            vocabulary.delete_tag(session, _id(archive, name))


# -- the pages ----------------------------------------------------------------------------------

def test_tags_page_shows_the_public_tree_with_visible_counts(client: FlaskClient, catalogue: dict[str, int]) -> None:
    response = client.get("/tags")

    html = text(response)
    assert response.status_code == 200
    assert '<a href="/tags" aria-current="page">Tags</a>' in html
    assert '<a class="tag-tree__name" href="/items?tag=Tumen">Tumen</a>' in html
    assert re.search(r'>Tumen</a>\s*<span class="tag-tree__count">2 items · 1 time range</span>', html)
    assert re.search(r'>dawn</span>\s*<span class="tag-tree__count">1 time range</span>', html)
    assert html.index(">Rivers<") < html.index(">Mekong<") < html.index(">Tumen<")
    assert "safe house" not in html and "broker" not in html  # used only where anonymous visitors may not look
    assert "/tags/" not in html and "Edit" not in html


def test_tags_page_for_an_archivist_links_to_each_tag_editor(client: FlaskClient, archive: Archive,
                                                             catalogue: dict[str, int], login) -> None:  # type: ignore[no-untyped-def]
    login("archivist")

    _tag(archive, "unused")

    html = text(client.get("/tags"))

    assert f'href="/tags/{_id(archive, "Rivers")}" aria-label="Edit Rivers"' in html
    assert f'href="/tags/{_id(archive, "unused")}" aria-label="Edit unused"' in html
    assert "not used on what you can see" in html
    assert "safe house" not in html


def test_tag_editing_needs_an_archivist_or_admin(client: FlaskClient, archive: Archive,
                                                 catalogue: dict[str, int], login) -> None:  # type: ignore[no-untyped-def]
    tumen = _id(archive, "Tumen")
    data = {"csrf_token": csrf_token(client), "name": "x", "parent": "", "target": "Mekong"}
    urls = [f"/tags/{tumen}/{action}" for action in ("rename", "parent", "merge", "delete")]

    assert client.get(f"/tags/{tumen}").status_code == 302
    for url in urls:
        assert client.post(url, data=data).headers["Location"].startswith("/login?next="), url
    login("researcher")
    data["csrf_token"] = csrf_token(client, "/tags")
    assert client.get(f"/tags/{tumen}").status_code == 404
    for url in urls:
        assert client.post(url, data=data).status_code == 404, url
    assert _id(archive, "Tumen") == tumen


def test_tag_page_offers_rename_parent_merge_and_delete(client: FlaskClient, archive: Archive,
                                                        catalogue: dict[str, int], login) -> None:  # type: ignore[no-untyped-def]
    _tag(archive, "Upper Tumen", "Tumen")
    login("admin")

    tumen = text(client.get(f"/tags/{_id(archive, 'Tumen')}"))
    unused = text(client.get(f"/tags/{_id(archive, 'Upper Tumen')}"))

    assert 'Tags</a> › <a href="/tags/' in tumen and ">Rivers</a>" in tumen
    assert "Narrower terms:" in tumen and ">Upper Tumen</a>" in tumen
    assert '<datalist id="parent-names">' in tumen
    parents = re.search(r'<datalist id="parent-names">(.*?)</datalist>', tumen).group(1)
    assert "Upper Tumen" not in parents and '"Tumen"' not in parents and "Rivers" in parents
    assert "A tag in use cannot be deleted" in tumen and "Delete tag</button>" not in tumen
    assert "Delete tag</button>" in unused
    assert 'value="Rivers"' in tumen  # the current broader term


def test_rename_through_the_page_and_a_conflict_suggests_merging(client: FlaskClient, archive: Archive,
                                                                 catalogue: dict[str, int], login) -> None:  # type: ignore[no-untyped-def]
    tumen = _id(archive, "Tumen")
    login("archivist")
    token = csrf_token(client, f"/tags/{tumen}")

    conflict = client.post(f"/tags/{tumen}/rename", data={"csrf_token": token, "name": "MEKONG"})
    renamed = client.post(f"/tags/{tumen}/rename", data={"csrf_token": token, "name": "Tumen river"})

    assert conflict.status_code == 400
    assert re.search(r'id="name"[^>]*value="MEKONG"[^>]*aria-invalid="true"', text(conflict), re.S)
    assert ('<p class="field__error" id="name-error">there is already a tag &#39;Mekong&#39;; to make one term of '
            "the two, merge &#39;Tumen&#39; into &#39;Mekong&#39; instead</p>") in text(conflict)
    assert renamed.status_code == 302 and renamed.headers["Location"] == f"/tags/{tumen}"
    assert "Renamed “Tumen” to “Tumen river”." in text(client.get(f"/tags/{tumen}"))


def test_parent_through_the_page_refuses_a_loop_and_makes_new_headings(client: FlaskClient, archive: Archive,
                                                                         catalogue: dict[str, int], login) -> None:  # type: ignore[no-untyped-def]
    rivers = _id(archive, "Rivers")
    login("archivist")
    token = csrf_token(client, f"/tags/{rivers}")

    loop = client.post(f"/tags/{rivers}/parent", data={"csrf_token": token, "parent": "tumen"})
    heading = client.post(f"/tags/{rivers}/parent", data={"csrf_token": token, "parent": "Geography"})
    top = client.post(f"/tags/{_id(archive, 'Mekong')}/parent", data={"csrf_token": token, "parent": " "})

    assert loop.status_code == 400
    assert "&#39;Rivers&#39; cannot go under &#39;Tumen&#39;, which is under it" in text(loop)
    assert heading.status_code == 302 and top.status_code == 302
    parents = _parents(archive)
    assert (parents["Rivers"], parents["Geography"], parents["Mekong"]) == ("Geography", None, None)


def test_merge_through_the_page(client: FlaskClient, archive: Archive, catalogue: dict[str, int],
                                login) -> None:  # type: ignore[no-untyped-def]
    tumen, mekong = _id(archive, "Tumen"), _id(archive, "Mekong")
    login("archivist")
    token = csrf_token(client, f"/tags/{tumen}")

    unknown = client.post(f"/tags/{tumen}/merge", data={"csrf_token": token, "target": "Yalu"})
    merged = client.post(f"/tags/{tumen}/merge", data={"csrf_token": token, "target": "mekong"})

    assert unknown.status_code == 400 and "there is no tag &#39;Yalu&#39;" in text(unknown)
    assert merged.status_code == 302 and merged.headers["Location"] == f"/tags/{mekong}"
    page = text(client.get(f"/tags/{mekong}"))
    assert "Merged “Tumen” into “Mekong”: 3 items, 1 time range and 0 narrower terms followed." in page
    assert client.get(f"/tags/{tumen}").status_code == 404


def test_delete_through_the_page(client: FlaskClient, archive: Archive, catalogue: dict[str, int],
                                 login) -> None:  # type: ignore[no-untyped-def]
    unused = _tag(archive, "unused")
    login("archivist")
    token = csrf_token(client, "/tags")

    refused = client.post(f"/tags/{_id(archive, 'dawn')}/delete", data={"csrf_token": token})
    deleted = client.post(f"/tags/{unused}/delete", data={"csrf_token": token})
    no_token = client.post(f"/tags/{_id(archive, 'Rivers')}/delete")

    assert refused.status_code == 400 and "still in use" in text(refused)
    assert deleted.status_code == 302 and deleted.headers["Location"] == "/tags"
    assert no_token.status_code == 400
    assert "unused" not in _parents(archive) and "Rivers" in _parents(archive)


def test_tag_page_lists_its_time_ranges_on_what_the_viewer_may_see(client: FlaskClient, archive: Archive,
                                                                  catalogue: dict[str, int], login) -> None:  # type: ignore[no-untyped-def]
    dawn = _id(archive, "dawn")
    login("archivist")

    page = text(client.get(f"/tags/{dawn}"))

    assert "Time ranges tagged “dawn”" in page
    listed = re.findall(r'<li class="tag-range" data-range-id="\d+">\s*<a class="tag-range__time" href="([^"]+)">'
                        r'<span class="visually-hidden">Play “([^”]+)” from </span>([^<]+)</a>', page)
    assert listed == [(f"/items/{catalogue['open']}?t=3#player", "Open clip", "0:00:03–0:00:04")]
    assert "Safe house" not in page  # a confidential item's range, without a grant
    with archive.Session() as session:
        assert len(vocabulary.tagged_ranges(session, ADMIN, session.get(Tag, dawn))) == 2
