"""schemathesis against a running server: every /api/v1 operation, fed what its OpenAPI document
allows (and what it does not), with an archivist's read-write token, must answer without a 500 and
as the document says."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import select

from archive.access import SYSTEM
from archive.app import create_app
from archive.models import Item, ItemKind, TokenScope, User
from archive.services import accounts, journeys, legs, places
from archive.services.api_tokens import create_token
from archive.services.transcripts import import_transcript
from browser import live_server
from test_web import add_item

#: Examples per operation: enough to reach every parameter and body field, few enough for minutes.
EXAMPLES = 12
PASSWORD = "schema walk password"


def _demo(archive: Any) -> None:
    """A few items, a transcript, places and a journey: what the operations read and change."""
    first = add_item(archive, "River crossing (synthetic)", kind=ItemKind.video, tags=("river",),
                     media={"duration": 20.0})
    add_item(archive, "Still at the border (synthetic)", tags=("border",))
    with archive.session() as session:
        accounts.create_user(session, "schema-archivist", PASSWORD, "archivist")
        import_transcript(session, session.get(Item, first),
                          b"WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nSynthetic demo line.\n", "clip.en.vtt")
        start = places.create_place(session, SYSTEM, name="Chiang Saen", latitude=20.27, longitude=100.09,
                                    country="TH")
        end = places.create_place(session, SYSTEM, name="Bangkok", latitude=13.75, longitude=100.5, country="TH")
        journey = journeys.create_journey(session, SYSTEM, title="Demo journey (synthetic)")
        legs.add_leg(session, SYSTEM, journey.id, from_place_id=start.id, to_place_id=end.id)


def _token(archive: Any) -> str:
    """A read-write token of the demo's archivist: how a script reaches the API."""
    with archive.session() as session:
        user_id = session.scalar(select(User.id).where(User.username == "schema-archivist"))
        _, secret = create_token(session, SYSTEM, user_id, name="schemathesis", scope=TokenScope.read_write,
                                 expires_at=None)
    return secret


@pytest.fixture
def demo_app(tmp_path: Any) -> Iterator[Flask]:
    """The demo archive on one catalogue (SQLite): the operations' queries are the services', which
    are tested on both elsewhere."""
    app = create_app({"data": str(tmp_path / "data"), "secret_key": "schema"})
    _demo(app.extensions["crossings"])
    yield app
    app.extensions["crossings"].close()


@pytest.mark.slow
def test_every_operation_answers_as_its_schema_says(demo_app: Flask) -> None:
    app, archive = demo_app, demo_app.extensions["crossings"]
    started = time.monotonic()
    failures: list[str] = []
    with live_server(app) as base:
        http = requests.Session()
        auth = {"Authorization": f"Bearer {_token(archive)}"}
        schema = schemathesis.openapi.from_url(f"{base}/api/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 30
        calls: list[str] = []
        for operation in operations:
            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy())
            def check(case: Any) -> None:
                # positive_data_acceptance wants every schema-valid request taken; the services refuse
                # (400, naming the field) what no schema says: a date that is not EDTF, a duplicate
                # place name, a bulk edit that changes nothing.
                case.call_and_validate(base_url=base, session=http, headers=auth,
                                       excluded_checks=[positive_data_acceptance])
                calls.append(operation.path)

            try:
                check()
            except Exception as exc:  # noqa: BLE001 - gathered, so one run names every failing operation
                failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert failures == [], "\n\n".join(failures)
    assert len(calls) >= 5 * len(operations), len(calls)  # every operation was tried, several times
    assert time.monotonic() - started < 600
