"""The OpenAPI document made true: every status a route answers, each error as the problem+json it
is, and the few bodies the framework cannot type from a handler's signature.

The framework documents a route's success and its own 400 (`{status_code, detail, extra}`), which
Podium never sends: every error goes through `errors.problem_response`. Rather than repeat the
same dozen `responses=` on 150 handlers, the statuses follow from what a route is (it takes a
token, names something in its path, reads a body) plus the few rules below that only some routes
have (a lobby that holds people back, a class that closes, a link that is spent). The document is
completed once, when first asked for (`document`), never at start-up.
"""

from __future__ import annotations

import copy
import re
from http import HTTPStatus
from typing import Any

from podium.errors import PROBLEM_JSON
from podium.storage import MEDIA_TYPES, OTHER_MEDIA

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details; `type` is `/problems/<code>`",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "examples": ["/problems/class_not_found"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": "string", "description": "the field at fault"},
        "invalid_params": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "reason"],
                "properties": {"name": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}

# Which routes answer which statuses beyond the ones every route of their shape answers:
# (methods, path pattern, statuses). Patterns match the document's paths.
_ANY = r"[^/]+"
KINDS = r"(webinars|minigroups|p2p|chats)"
ROOMS = r"/api/v1/(event_)?rooms/\{room_id\}"
EXTRA: list[tuple[set[str], str, set[int]]] = [
    # The lobby holds its guests back from the class's room, media and people (412).
    ({"get", "post"}, rf"^{ROOMS}/(events|state|enter)$", {412}),
    ({"post"}, r"^/api/v1/classes/\{class_id\}/media$", {409, 412}),
    ({"get"}, r"^/api/v1/classes/\{class_id\}/participants$", {412}),
    # Spec 003's lobby and SIP answer 400 for a bad body and 412 for a state they cannot take.
    ({"put"}, rf"^/api/v1/({KINDS[1:-1]}|classes)/\{{class_id\}}/(lobby|sip)$", {400, 412}),
    ({"post", "put"}, r"^/api/v1/classes/\{class_id\}/lobby/(admit|deny|message)$", {409, 412}),
    # Something that closes, already exists or moved on meanwhile.
    ({"post"}, rf"^/api/v1/{KINDS}$", {409}),
    (
        {"put", "patch"},
        rf"^/api/v1/({KINDS}/\{{class_id\}}|audiences/{_ANY}/{KINDS}/{_ANY})$",
        {409},
    ),
    ({"post"}, rf"^/api/v1/{KINDS}/\{{class_id\}}/(recreate|events|whiteboard|replicas)$", {409}),
    ({"patch", "post"}, rf"^{ROOMS}(/events|/enter)?$", {409}),
    ({"post"}, r"^/api/v1/classes/\{class_id\}/(end|presenter)$", {409}),
    ({"post"}, r"^/api/v1/account/\{account_id\}/ban$", {409}),
    ({"post", "delete"}, r"^/api/v1/(editions|changes|audiences)/", {409}),
    ({"post"}, rf"^{ROOMS}/editions$", {409}),
    ({"post"}, r"^/api/v1/transcoding/", {409}),
    ({"post", "put", "delete"}, r"^/(api/)?v1/(sessions|participants)", {409}),
    ({"get", "post", "put", "delete"}, r"^/v1/(sessions|participants)", {400}),
    ({"post"}, r"^/api/v1/classes/\{class_id\}/participants$", {409}),
    # Entry links: a link that was withdrawn or used (410), not valid (404), not open now (403).
    ({"post"}, r"^/api/v1/join$", {401, 403, 404, 409, 410}),
    ({"post"}, r"^/api/v1/sip/verify$", {401, 403, 404, 412}),
    ({"post"}, r"^/v1/auth/token$", {400, 401, 415}),
]
# Spec 004's Session API answers every bad value with its swagger's 400 naming the field, never 422.
NOT_422 = re.compile(r"^/v1/")


# Path parameters that are ids Podium made: UUIDs (the handlers parse them, naming the field).
UUID_PARAMS = {"class_id", "room_id", "participant_id", "session_id", "edition_id", "change_id",
               "production_id"}  # fmt: skip


def statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses a route answers."""
    found = {503}  # the database went away: say so, the client retries
    open_route = operation.get("security") in ([], [{}])  # no token, or a token not needed
    if open_route:
        found.add(429)  # routes without a token are rate-limited per address
    else:
        found |= {401, 403}
    params = operation.get("parameters") or []
    if any(p.get("in") == "path" for p in params):
        found |= {404, 422}
    if any(p.get("in") in ("query", "header") for p in params):
        found.add(422)
    if "requestBody" in operation:
        found |= {400, 413, 422}
    for methods, pattern, extra in EXTRA:
        if method in methods and re.search(pattern, path):
            found |= extra
    if NOT_422.search(path):
        found.discard(422)
    return found


def _problem(status: int) -> dict[str, Any]:
    return {
        "description": HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


# Spec 003's lobby and SIP read their body by hand (who asks is judged before what they ask, so a
# bad body is refused after the token, with the spec's 400): the document still shows it.
SPEC_003_BODIES = {
    "LobbyUpdate": {
        "type": "object",
        "required": ["state"],
        "properties": {
            "state": {"type": "integer", "enum": [0, 1], "description": "0: no lobby; 1: lobby"},
            "timer": {"type": ["integer", "null"], "minimum": 0,
                      "description": "unix seconds when the lobby opens by itself"},
            "message": {"type": ["string", "null"], "maxLength": 2000},
            "opens_before_minutes": {"type": ["integer", "null"], "minimum": 0},
        },
    },
    "SipUpdate": {
        "type": "object",
        "required": ["state"],
        "properties": {"state": {"type": "integer", "enum": [0, 1, 2],
                                 "description": "0 off, 1 on with a PIN per attendee, 2 on "
                                                "without PIN"}},
    },
}  # fmt: skip
SPEC_003_PATH = re.compile(r"/\{class_id\}/(lobby|sip)$")
SPEC_003_SHAPE = {"lobby": "LobbyUpdate", "sip": "SipUpdate"}


# Bodies the framework cannot type: handlers that answer a stored JSON value as it is (a property,
# an event room dump) are typed "string"; a value may be any JSON.
ANY_JSON = re.compile(r"/properties/\{property_id\}$|/events\.json$")


# Stored media behind a signed link: the object as it is (whole, or the range asked for), a
# redirect to the object store's own signed URL, or an empty 416 for a range beyond its end.
STREAMS = re.compile(r"^/api/v1/streams/")


def _media_responses() -> dict[str, Any]:
    body = {"schema": {"type": "string", "format": "binary"}}
    content = {media: body for media in sorted({*MEDIA_TYPES.values(), OTHER_MEDIA})}
    return {
        "200": {"description": "The stored object", "content": content},
        "206": {"description": "The range of it asked for (`Range: bytes=…`)", "content": content},
        "302": {"description": "The object store's own signed URL (`Location`)"},
        "416": {"description": "The range is beyond the object's end"},
    }


def complete(built: dict[str, Any]) -> dict[str, Any]:
    """The framework's document, made true (a copy; `built` is not changed)."""
    doc = copy.deepcopy(built)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM
    schemas.update(SPEC_003_BODIES)
    for schema in schemas.values():
        if schema.get("type") == "object" and schema.get("properties") == {}:
            # A shape without fields is `{}` and nothing more (else `oneOf` with it is ambiguous).
            schema["additionalProperties"] = False
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for param in operation.get("parameters") or []:
                if param.get("in") != "path":
                    continue
                if param.get("name") in UUID_PARAMS:
                    param["schema"] = {"type": "string", "format": "uuid"}
                elif "oneOf" in param.get("schema", {}):
                    # A handler that serves two paths takes each path's parameters as optional;
                    # in its own path a parameter is always there.
                    param["schema"] = {"type": "string"}
            responses: dict[str, Any] = operation["responses"]
            responses.pop("400", None)  # the framework's shape, never sent
            spec_003 = SPEC_003_PATH.search(path)
            if spec_003 and method == "put" and "requestBody" not in operation:
                shape = {"$ref": f"#/components/schemas/{SPEC_003_SHAPE[spec_003.group(1)]}"}
                operation["requestBody"] = {
                    "required": True, "content": {"application/json": {"schema": shape}}
                }  # fmt: skip
            if STREAMS.search(path):
                responses.clear()
                responses.update(_media_responses())
            if ANY_JSON.search(path) and method == "get":
                for media in responses.get("200", {}).get("content", {}).values():
                    media["schema"] = {"description": "any JSON value"}
            for status in sorted(statuses(method, path, operation)):
                responses.setdefault(str(status), _problem(status))
    return doc


_completed: list[tuple[Any, dict[str, Any]]] = []


def document(built: Any) -> dict[str, Any]:
    """The completed document of an app's built one (the framework's `OpenAPI`, or the dict it
    renders the docs page from), made once: the framework builds its own once, lazily, and keeps
    it; a process with several apps, as in the tests, keeps a few."""
    for original, done in _completed:
        if original is built:
            return done
    done = complete(built if isinstance(built, dict) else built.to_schema())
    _completed.append((built, done))
    del _completed[:-8]
    return done
