"""The archive's identity (name, address, contact, identifier scheme) and its items' persistent identifiers."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from archive import db, identity
from archive.app import create_app
from archive.core import Archive
from archive.models import AccessLevel, Item, ItemKind
from archive.settings import SettingsError


def _item(title: str) -> Item:
    return Item(title=title, kind=ItemKind.catalogued, access=AccessLevel.public)


def test_items_get_a_urn_uuid_without_a_naan(archive: Archive) -> None:
    with archive.session() as session:
        item = _item("one")
        session.add(item)
        session.flush()
        assert item.pid.startswith("urn:uuid:") and len(item.pid) == len("urn:uuid:") + 36


def test_items_get_a_checked_ark_under_the_naan_and_shoulder(settings: dict[str, object]) -> None:
    archive = Archive.open({**settings, "pid_naan": "99999", "pid_shoulder": "x5"})
    try:
        with archive.session() as session:
            items = [_item(f"item {n}") for n in range(20)]
            session.add_all(items)
            session.flush()
            pids = [i.pid for i in items]
        assert len(set(pids)) == 20
        assert all(p.startswith("ark:/99999/x5") and identity.is_valid_ark(p) for p in pids)
        mistyped = pids[0][:-1] + ("b" if pids[0][-1] != "b" else "c")
        assert not identity.is_valid_ark(mistyped)
    finally:
        archive.close()


def test_a_pid_given_explicitly_is_kept(archive: Archive) -> None:
    with archive.session() as session:
        item = _item("restored")
        item.pid = "ark:/12345/restored"
        session.add(item)
        session.flush()
        assert item.pid == "ark:/12345/restored"


@pytest.mark.parametrize("overrides, named", [
    ({"pid_naan": "12l45"}, "pid_naan"),
    ({"pid_naan": "12345", "pid_shoulder": "X-1"}, "pid_shoulder"),
    ({"pid_shoulder": "x5"}, "pid_shoulder"),
    ({"base_url": "archive.example.org"}, "base_url"),
])
def test_unusable_identity_settings_are_refused_naming_the_setting(tmp_path: Path, overrides: dict[str, str],
                                                                   named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Archive({"data": str(tmp_path), **_defaults(), **overrides})


def _defaults() -> dict[str, object]:
    from archive.settings import load_settings
    return load_settings(environ={})


def test_the_migration_gives_existing_items_distinct_identifiers(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    cfg = db.alembic_config(engine)
    command.upgrade(cfg, "0014")
    with engine.begin() as conn:
        for n in range(3):
            conn.execute(sa.text("INSERT INTO items (title, description, kind, date_shot, creator, language, rights, "
                                 "source, access, created_at, updated_at, version, location_precision) VALUES "
                                 f"('old {n}', '', 'video', '', '', '', '', '', 'public', '2020-01-01', '2020-01-01', 1, 'exact')"))
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        pids = conn.execute(sa.text("SELECT pid FROM items")).scalars().all()
    assert len(set(pids)) == 3 and all(p.startswith("urn:uuid:") for p in pids)
    engine.dispose()


def test_the_about_page_gives_the_identity(settings: dict[str, object]) -> None:
    settings.update({"archive_name": "Yalu Testimony Archive",
                      "base_url": "https://archive.example.org/", "contact_email": "desk@example.org",
                      "pid_naan": "99999"})
    app = create_app(settings)
    page = app.test_client().get("/about").get_data(as_text=True)
    assert "Yalu Testimony Archive" in page
    assert 'href="https://archive.example.org/"' in page
    assert "mailto:desk@example.org" in page
    assert "ARK under NAAN 99999" in page
    app.extensions["crossings"].close()
