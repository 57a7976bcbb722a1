"""What an export takes: a collection, a journey, a browse listing, a search or everything, as its viewer may see it."""

from __future__ import annotations

import pytest

from archive.access import ANONYMOUS, SYSTEM
from archive.core import Archive
from archive.interchange.selection import Selection, selected_item_ids
from archive.models import AccessLevel, Collection, Item, ItemKind, Journey, Leg, Place
from archive.search import SearchRequest
from archive.services import NotFound
from archive.services.catalogue import ItemQuery


@pytest.fixture
def catalogue(archive: Archive) -> dict[str, int]:
    with archive.session() as session:
        film = Collection(title="Film")
        hidden = Collection(title="Hidden")
        a = Place(name="Hyesan", latitude=41.4, longitude=128.2)
        b = Place(name="Changbai", latitude=41.42, longitude=128.19)
        journey = Journey(title="Across the Yalu", access=AccessLevel.public)
        leg = Leg(journey=journey, position=1, from_place=a, to_place=b)
        items = [Item(title="river crossing at night", kind=ItemKind.catalogued, access=AccessLevel.public,
                      collection=film, legs=[leg]),
                 Item(title="river bank", kind=ItemKind.catalogued, access=AccessLevel.restricted, collection=film),
                 Item(title="safe house", kind=ItemKind.catalogued, access=AccessLevel.confidential,
                      collection=hidden, legs=[leg])]
        session.add_all(items)
        session.flush()
        ids = {"film": film.id, "hidden": hidden.id, "journey": journey.id,
               **{f"item{n}": item.id for n, item in enumerate(items)}}
    return ids


def test_each_selection_takes_only_what_the_viewer_may_see(archive: Archive, catalogue: dict[str, int]) -> None:
    with archive.Session() as session:
        def ids(viewer, selection):  # type: ignore[no-untyped-def]
            return selected_item_ids(session, viewer, archive.index, selection)
        assert ids(SYSTEM, Selection()) == [catalogue["item0"], catalogue["item1"], catalogue["item2"]]
        assert ids(ANONYMOUS, Selection()) == [catalogue["item0"]]
        assert ids(SYSTEM, Selection(collection_id=catalogue["film"])) == [catalogue["item0"], catalogue["item1"]]
        assert ids(SYSTEM, Selection(journey_id=catalogue["journey"])) == [catalogue["item0"], catalogue["item2"]]
        assert ids(ANONYMOUS, Selection(journey_id=catalogue["journey"])) == [catalogue["item0"]]
        assert sorted(ids(SYSTEM, Selection(search=SearchRequest(q="river")))) == [catalogue["item0"], catalogue["item1"]]
        assert ids(ANONYMOUS, Selection(search=SearchRequest(q="river"))) == [catalogue["item0"]]
        assert ids(SYSTEM, Selection(browse=ItemQuery(sort="title"))) == [catalogue["item1"], catalogue["item0"],
                                                                          catalogue["item2"]]
        with pytest.raises(NotFound):
            ids(ANONYMOUS, Selection(collection_id=catalogue["hidden"]))


def test_the_export_options_make_the_selection_and_refuse_what_makes_none() -> None:
    import click

    from archive.interchange.commands import export_selection

    assert export_selection(3, None, None, ()) == Selection(collection_id=3)
    made = export_selection(None, None, "river", ("country=KP", "tag=night", "from=2019"))
    assert made.search is not None and made.search.q == "river"
    assert made.search.filters["tag"] == ["night"] and made.search.date_from is not None
    for bad in [(1, 2, None, ()), (None, None, None, ("tag=x",)), (None, None, "q", ("nonsense=1",)),
                (None, None, "q", ("tag",)), (None, None, "q", ("from=not a date",))]:
        with pytest.raises(click.UsageError):
            export_selection(*bad)
