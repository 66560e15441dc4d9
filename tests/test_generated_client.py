"""A client generated from Podium's own `/openapi.json` by a maintained generator
(openapi-python-client), at test time, against a real server: create, read and update of each
kind, events, properties, participants and their links, the lobby and the Session API, and every
error status decoded as the problem+json the document promises."""

from __future__ import annotations

import asyncio
import importlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from podium.embedded import free_port
from tests.conftest import TEMPLATE, _admin, start_server, stop_server, token_for, with_database

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
pytestmark = pytest.mark.skipif(
    not GENERATOR.exists(), reason="needs openapi-python-client (a dev dependency)"
)


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory, pg_admin_url: str) -> Iterator[Any]:
    """(base URL, the generated package) for a server on its own database."""
    name = f"sdk_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(pg_admin_url, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
    try:
        database_url = with_database(pg_admin_url, name)
        port = free_port()
        proc = start_server(database_url, port)
        try:
            base = f"http://127.0.0.1:{port}"
            out = tmp_path_factory.mktemp("sdk")
            (out / "openapi.json").write_bytes(httpx.get(f"{base}/openapi.json").content)
            package = f"podium_sdk_{uuid.uuid4().hex[:8]}"
            done = subprocess.run(
                [str(GENERATOR), "generate", "--path", str(out / "openapi.json"), "--meta",
                 "none", "--output-path", str(out / package)],
                capture_output=True, text=True, timeout=300,
                env={"PATH": f"{GENERATOR.parent}:/usr/bin:/bin"},
            )  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr
            assert "WARNING" not in done.stdout, done.stdout  # every route was generated
            sys.path.insert(0, str(out))
            try:
                yield base, importlib.import_module(package)
            finally:
                sys.path.remove(str(out))
        finally:
            stop_server(proc)
    finally:
        asyncio.run(_admin(pg_admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


OPEN: list[Any] = []  # the generated clients made by a test, closed after it


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().get_httpx_client().close()


class Api:
    """Calls the generated functions by module name; answers (status, parsed body)."""

    def __init__(self, base: str, pkg: ModuleType, token: str | None = None) -> None:
        self.pkg = pkg
        client = importlib.import_module(f"{pkg.__name__}.client")
        self.client = (client.AuthenticatedClient(base_url=base, token=token) if token
                       else client.Client(base_url=base))  # fmt: skip
        OPEN.append(self.client)
        self.models = importlib.import_module(f"{pkg.__name__}.models")

    def __call__(self, group: str, name: str, *args: Any, **kwargs: Any) -> tuple[int, Any]:
        module = importlib.import_module(f"{self.pkg.__name__}.api.{group}.{name}")
        r = module.sync_detailed(*args, client=self.client, **kwargs)
        return r.status_code.value, r.parsed

    def problem(self, answer: tuple[int, Any], status: int, code: str) -> None:
        got, parsed = answer
        assert got == status, (got, parsed)
        assert isinstance(parsed, self.models.Problem), parsed
        assert parsed.status == status and parsed.type_ == f"/problems/{code}", parsed


def test_each_kind_events_and_properties(sdk: Any) -> None:
    base, pkg = sdk
    api = Api(base, pkg, token_for())
    m = api.models
    status, web = api(
        "webinars",
        "api_v1_webinars_create",
        body=m.WebinarCreate(scope="sdk-w", audience="example.org", title="SDK"),
    )
    assert status == 201 and isinstance(web, m.ClassRead) and web.kind == "webinar"
    status, read = api("webinars", "api_v1_webinars_class_id_read", web.class_id)
    assert status == 200 and read.title == "SDK"
    status, changed = api(
        "webinars",
        "api_v1_webinars_class_id_patch_update",
        web.class_id,
        body=m.ClassUpdate(title="Renamed"),
    )
    assert status == 200 and changed.title == "Renamed"
    status, mini = api(
        "minigroups",
        "api_v1_minigroups_create",
        body=m.MinigroupCreate(scope="sdk-m", audience="example.org", host="t", locked_chat=False),
    )
    assert status == 201 and mini.real_time.host == "t"
    status, by_scope = api(
        "minigroups", "api_v1_audiences_minigroups_class_scope_read", "example.org", "sdk-m"
    )
    assert status == 200 and by_scope.class_id == mini.class_id
    status, pair = api(
        "p2p", "api_v1p2p_create", body=m.P2PCreate(scope="sdk-p", audience="example.org")
    )
    assert status == 201 and pair.kind == "p2p"
    status, chat = api(
        "chats", "api_v1_chats_create", body=m.ChatCreate(scope="sdk-c", audience="example.org")
    )
    assert status == 201 and chat.kind == "chat"
    assert api("chats", "api_v1_audiences_chats_class_scope_read", "example.org",
               "sdk-c")[1].class_id == chat.class_id  # fmt: skip

    room = mini.real_time.event_room_id
    status, event = api(
        "event_rooms",
        "api_v1_event_rooms_room_id_events_create_event",
        room,
        body=m.EventCreate(type_="message", data={"text": "hi"}),
    )
    assert status == 201 and isinstance(event, m.Event) and event.seq == 1
    status, live_only = api(
        "event_rooms",
        "api_v1_event_rooms_room_id_events_create_event",
        room,
        body=m.EventCreate(type_="typing", data=True, is_persistent=False),
    )
    assert status == 201 and isinstance(live_only, m.Empty)
    status, listed = api("event_rooms", "api_v1_event_rooms_room_id_events_events", room)
    assert status == 200 and [e.type_ for e in listed] == ["message"]
    status, state = api(
        "event_rooms", "api_v1_event_rooms_room_id_state_read_state", room, sets=["message"]
    )
    assert status == 200 and state.to_dict()["message"]["data"] == {"text": "hi"}

    # A property's value is any JSON: a list, a number, an object.
    for value in ([1, "two"], 3.5, {"deep": {"x": None}}):
        status, merged = api(
            "minigroups", "api_v1_minigroups_class_id_properties_property_id_update_property",
            mini.class_id, "p", body=value,
        )  # fmt: skip
        assert status == 200 and merged.to_dict()["p"] == value
        status, got = api(
            "minigroups",
            "api_v1_minigroups_class_id_properties_property_id_read_property",
            mini.class_id,
            "p",
        )
        assert status == 200 and got == value


def test_participants_lobby_and_errors(sdk: Any) -> None:
    base, pkg = sdk
    api = Api(base, pkg, token_for())
    m = api.models
    _, mini = api(
        "minigroups",
        "api_v1_minigroups_create",
        body=m.MinigroupCreate(scope="sdk-l", audience="example.org", host="t"),
    )
    cid = mini.class_id
    status, guest = api(
        "participants",
        "api_v1_classes_class_id_participants_create",
        cid,
        body=m.ParticipantCreate(
            display_name="Guest", role=m.ParticipantCreateRole.GUEST, single_use=True
        ),
    )
    assert status == 201 and isinstance(guest, m.ParticipantRead)
    status, lobby = api(
        "lobby",
        "api_v1_minigroups_class_id_lobby_set_lobby",
        cid,
        body=m.LobbyUpdate(state=m.LobbyUpdateState.VALUE_1, message="Wait"),
    )
    assert status == 200 and lobby.lobby.state == 1
    anonymous = Api(base, pkg)
    token = guest.entry_url.rsplit("/join/", 1)[1]
    status, joined = anonymous(
        "participants", "api_v1_join_join", body=m.JoinRequest(entry_token=token)
    )
    assert status == 200 and isinstance(joined, m.JoinAnswer)
    held = Api(base, pkg, joined.access_token)
    # 412: the lobby holds the guest back from the room.
    held.problem(
        held(
            "event_rooms", "api_v1_event_rooms_room_id_events_events", mini.real_time.event_room_id
        ),
        412,
        "lobby_blocked",
    )
    status, queue = api("lobby", "api_v1_classes_class_id_lobby_queue_queue", cid)
    assert status == 200 and [w.participant_id for w in queue] == [guest.participant_id]
    status, admitted = api(
        "lobby", "api_v1_classes_class_id_lobby_admit_admit", cid, body=m.Admission(all_=True)
    )
    assert status == 200 and admitted.participant_ids == [guest.participant_id]
    assert held("event_rooms", "api_v1_event_rooms_room_id_events_events",
                mini.real_time.event_room_id)[0] == 200  # fmt: skip

    # Every error decodes as a problem.
    api.problem(
        api("webinars", "api_v1_webinars_class_id_read", uuid.uuid4()), 404, "webinar_not_found"
    )
    api.problem(api("minigroups", "api_v1_minigroups_create",
                    body=m.MinigroupCreate(scope="sdk-l", audience="example.org", host="t")),
                409, "class_already_exists")  # fmt: skip
    anonymous.problem(
        anonymous("webinars", "api_v1_webinars_class_id_read", cid), 401, "missing_token"
    )
    student = Api(base, pkg, token_for(sub="student"))
    student.problem(student("webinars", "api_v1_webinars_create",
                            body=m.WebinarCreate(scope="x", audience="example.org", title="X")),
                    403, "not_allowed")  # fmt: skip
    api.problem(api("webinars", "api_v1_webinars_create",
                    body=m.WebinarCreate(scope="y", audience="example.org", title="Y",
                                         time=[10, 5])), 422, "validation_failed")  # fmt: skip
    anonymous.problem(
        anonymous("participants", "api_v1_join_join", body=m.JoinRequest(entry_token=token)),
        410,
        "link_used",
    )


def test_the_session_api(sdk: Any) -> None:
    base, pkg = sdk
    api = Api(base, pkg, token_for())
    m = api.models
    start = datetime.now(UTC) + timedelta(hours=1)
    when = {
        "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_time": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    status, session = api("sessions", "v1_sessions_create", body=m.SessionCreationRequest(
        session_name="Consult", participants=[m.ParticipantCreationRequest(
            display_name="Dr", role="host")], **when))  # fmt: skip
    assert status == 200 and isinstance(session, m.Session) and len(session.participants) == 1
    sid = uuid.UUID(session.session_id)
    status, added = api(
        "sessions",
        "v1_sessions_session_id_participants_add",
        sid,
        body=m.ParticipantCreationRequest(display_name="Pat", role="guest"),
    )
    assert status == 200 and added.entry_url
    status, page = api("sessions", "v1_sessions_list", page="0", page_size="10")
    assert status == 200 and any(s.session_id == session.session_id for s in page.content)
    status, renamed = api(
        "sessions",
        "v1_sessions_session_id_update",
        sid,
        body=m.SessionUpdateRequest(session_name="Renamed"),
    )
    assert status == 200 and renamed.session_name == "Renamed"
    assert api("sessions", "v1_sessions_session_id_cancel", sid)[0] == 200
    api.problem(api("sessions", "v1_sessions_session_id_read", sid), 404, "session_not_found")
    status, kept = api("sessions", "v1_sessions_session_id_read", sid, include_canceled="true")
    assert status == 200 and kept.canceled_time
    api.problem(
        api(
            "sessions",
            "v1_sessions_create",
            body=m.SessionCreationRequest(start_time="not a time", end_time="nor this"),
        ),
        400,
        "invalid_time",
    )
