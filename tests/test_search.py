"""The whoosh engine's own ways: searchers re-used, writers in several processes, segments merged.

What every engine must do is in tests/test_search_contract.py; requests are checked here too.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
import time
from pathlib import Path

import pytest

from archive.access import SYSTEM, Viewer
from archive.search import ItemDoc, SearchRequest, TranscriptDoc, WhooshIndex
from archive.search import index as index_module
from test_search_contract import COLLECTIONS, DOCS, seg


@pytest.fixture
def index(tmp_path: Path) -> Iterator[WhooshIndex]:
    ix = WhooshIndex(tmp_path / "index")
    ix.update(DOCS, collections=COLLECTIONS)
    yield ix
    ix.close()


def ids(index: WhooshIndex, q: str, viewer: Viewer = SYSTEM, **kw: object) -> list[int]:
    return [i.item_id for i in index.search(SearchRequest(q=q, **kw), viewer).items]


# -- requests ---------------------------------------------------------------------------------------

def test_request_from_query_string_never_fails() -> None:
    request = SearchRequest.from_args({"q": "river", "page": "x", "per_page": "9999", "tag": "border",
                                       "bogus": "1", "sort": "-date_shot"})
    assert (request.q, request.page, request.per_page, dict(request.filters), request.sort) == \
        ("river", 1, 100, {"tag": ["border"]}, "-date_shot")


def test_request_from_a_multidict_keeps_repeated_facets() -> None:
    from werkzeug.datastructures import MultiDict
    request = SearchRequest.from_args(MultiDict([("q", "x"), ("kind", "video"), ("kind", "audio"), ("year", "")]))
    assert dict(request.filters) == {"kind": ["video", "audio"]}


# -- the index as a shared resource ----------------------------------------------------------------------

def test_searcher_is_reused_and_refreshed_not_reopened(index: WhooshIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = []
    real_open = index_module.View.open
    monkeypatch.setattr(index_module.View, "open", classmethod(lambda cls, *a: opened.append(1) or real_open(*a)))
    for _ in range(5):
        ids(index, "river")
    assert len(opened) <= 1
    index.update([ItemDoc(5, "New arrival from Vientiane", "video", "public", "v1")])
    assert ids(index, "vientiane") == [5]
    assert len(opened) <= 1  # refreshed, not reopened


def _add_in_process(path: str, n: int) -> None:
    ix = WhooshIndex(path)
    ix.update([ItemDoc(200 + n, f"Process item {n} vientiane", "video", "public", "v1")])


def test_writers_wait_for_each_other_across_processes(index: WhooshIndex) -> None:
    ctx = multiprocessing.get_context("fork")
    with index.lock():  # hold the lock while the processes start: they must wait, not fail
        procs = [ctx.Process(target=_add_in_process, args=(str(index.path), n)) for n in range(3)]
        for p in procs:
            p.start()
        time.sleep(0.3)
        assert all(p.is_alive() for p in procs)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert sorted(ids(index, "vientiane")) == [200, 201, 202]


def test_small_commits_are_merged_when_idle_or_too_many(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_module, "MAX_SEGMENTS", 10)
    monkeypatch.setattr(index_module, "IDLE_MERGE", 0.3)
    ix = WhooshIndex(tmp_path / "ix")

    def add(n: int) -> None:
        ix.update([ItemDoc(n, f"Item {n} seoul", "video", "public", "v1",
                           transcripts=(TranscriptDoc(n, "en", "transcript", (seg(n, 0.0, f"word{n} seoul"),)),))])

    for n in range(20):
        add(n)
        assert ix.stats()["segments"] <= 10  # a write merges past the ceiling
    monkeypatch.setattr(index_module, "MAX_SEGMENTS", 1000)
    for n in range(20, 40):  # quicker than IDLE_MERGE: no merging meanwhile
        add(n)
    before = ix.stats()["segments"]
    assert before >= 20
    deadline = time.monotonic() + 10
    while ix.stats()["segments"] >= before and time.monotonic() < deadline:  # idle: merged in the background
        time.sleep(0.1)
    time.sleep(0.5)
    assert ix.stats()["segments"] < 12
    assert len(ids(ix, "seoul", per_page=100)) == 40 and ids(ix, "word7") == [7]
    ix.close()
