// The original's web client library, @ulms/api-clients 5.24.0 from npm, unchanged, against a real
// Podium server: every method of its Dispatcher and HTTPEvent classes. tests/test_ulms_client.py
// starts the server, makes the classes and passes what this needs in the environment.
//
// The classes are loaded from their own modules: the package's index also loads its real-time bus
// client (nats.ws), which does not load under Node (a browser package); nothing here uses it.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

const require = createRequire(import.meta.url);
const Dispatcher = require("@ulms/api-clients/lib/dispatcher").default;
const HTTPEvent = require("@ulms/api-clients/lib/http-event").default;
const FetchHttpClient = require("@ulms/api-clients/lib/http-client").default;

const env = JSON.parse(process.env.PODIUM_ULMS);
const base = `${env.url}/api/v1`; // the client's base URL set to Podium's /api/v1
const http = new FetchHttpClient();
const as = (token) => ({ getToken: async () => token });
const service = { dispatcher: new Dispatcher(base, http, as(env.service)), event: new HTTPEvent(base, http, as(env.service)) };
const student = { dispatcher: new Dispatcher(base, http, as(env.student)), event: new HTTPEvent(base, http, as(env.student)) };
const { audience } = env;
// What an app built on the library does first: every call then carries these label headers.
for (const client of [service.dispatcher, service.event, student.dispatcher, student.event]) {
  client.setLabels({ app_audience: audience, app_label: "podium-test", app_version: "1.0.0", scope: env.minigroup.scope });
}
const room = env.minigroup.event_room_id;

test("Dispatcher.readScope reads every kind by audience and scope", async () => {
  for (const [kind, name] of [["webinars", "webinar"], ["minigroups", "minigroup"], ["p2p", "p2p"], ["chats", "chat"]]) {
    const cls = env[name];
    const got = await student.dispatcher.readScope(kind, audience, cls.scope);
    assert.equal(got.id, cls.scope);
    assert.equal(got.class_id, cls.class_id);
    assert.equal(got.real_time.event_room_id, cls.event_room_id);
  }
  const withKeys = await service.dispatcher.readScope("minigroups", audience, env.minigroup.scope, { class_keys: ["is_adult"] });
  assert.deepEqual(withKeys.properties, { is_adult: true });
});

test("Dispatcher.updateScope changes a class by audience and scope", async () => {
  const got = await service.dispatcher.updateScope("webinars", audience, env.webinar.scope, { title: "Renamed" });
  assert.equal(got.title, "Renamed");
});

test("Dispatcher class and account properties", async () => {
  const merged = await service.dispatcher.updateClassProperty("minigroups", env.minigroup.class_id, "has_user_access_to_board", true);
  assert.equal(merged.has_user_access_to_board, true);
  assert.equal(await student.dispatcher.readClassProperty("minigroups", env.minigroup.class_id, "has_user_access_to_board"), true);
  const mine = await student.dispatcher.updateAccountProperty("onboarding", { seen: 3 });
  assert.deepEqual(mine.onboarding, { seen: 3 });
  assert.deepEqual(await student.dispatcher.readAccountProperty("onboarding"), { seen: 3 });
});

test("Dispatcher.updatePosition saves where the caller stopped", async () => {
  assert.deepEqual(await student.dispatcher.updatePosition("minigroups", env.minigroup.class_id, 42), {});
  const read = await student.dispatcher.readScope("minigroups", audience, env.minigroup.scope);
  assert.equal(read.saved_position, 42);
});

test("HTTPEvent.readRoom and updateRoom", async () => {
  const got = await student.event.readRoom(room);
  assert.equal(got.id, room);
  assert.equal(got.classroom_id, env.minigroup.class_id);
  const updated = await service.event.updateRoom(room, { tags: { lesson: 7 } });
  assert.deepEqual(updated.tags, { lesson: 7 });
});

test("HTTPEvent.enterRoom and listAgent", async () => {
  const entered = await student.event.enterRoom(room, "web");
  assert.equal(entered.agent_id, `web.${env.student_account}`);
  const agents = await service.event.listAgent(room, { offset: 0, limit: 25 });
  const mine = agents.find((a) => a.agent_id === `web.${env.student_account}`);
  assert.ok(mine, JSON.stringify(agents));
  assert.equal(mine.room_id, room);
  assert.equal(mine.banned, false);
  assert.equal(typeof mine.created_at, "number");
});

test("HTTPEvent.updateAgent bans and unbans, listBans shows it", async () => {
  assert.deepEqual(await service.event.updateAgent(room, "troll-1", true, "spam"), {});
  const bans = await service.event.listBans(room);
  assert.deepEqual(bans.map((b) => [b.account_id, b.reason]), [["troll-1", "spam"]]);
  await service.event.updateAgent(room, "troll-1", false);
  assert.deepEqual(await service.event.listBans(room), []);
});

test("HTTPEvent events: create, remove, list", async () => {
  const made = await student.event.createEvent(room, "message", { text: "hello" }, { set: "messages", label: "m1" });
  assert.equal(made.type, "message");
  assert.equal(made.label, "m1");
  const second = await student.event.createEvent(room, "message", { text: "again" }, { set: "messages", label: "m2" });
  assert.ok(second.seq > made.seq);
  const removed = await student.event.createRemovalEvent(room, "message", {}, { set: "messages", label: "m2" });
  assert.equal(removed.removed, true);
  const listed = await student.event.listEvent(room, { type: "message", direction: "backward", limit: 10 });
  assert.deepEqual(listed.map((e) => e.label), ["m2", "m2", "m1"]);
});

test("HTTPEvent.readState: newest first, attribute, original_occurred_at", async () => {
  const made = await student.event.createEvent(room, "message", { text: "pin me" }, { set: "messages", label: "m3", attribute: "pinned" });
  const state = await student.event.readState(room, ["messages"], { limit: 1 });
  assert.deepEqual(state.messages.map((e) => e.label), ["m3"]);
  assert.equal(state.has_next, true);
  const next = await student.event.readState(room, ["messages"], { limit: 10, original_occurred_at: state.messages[0].original_occurred_at });
  assert.deepEqual(next.messages.map((e) => e.label), ["m1"]);
  const pinned = await student.event.readState(room, ["messages"], { attribute: "pinned" });
  assert.deepEqual(pinned.messages.map((e) => e.id), [made.id]);
  const before = await student.event.readState(room, ["messages"], { occurred_at: made.occurred_at - 1 });
  assert.deepEqual(before.messages.map((e) => e.label), ["m1"]);
});

test("HTTPEvent.updateLockedTypes and updateWhiteboardAccess", async () => {
  const locked = await service.event.updateLockedTypes(room, { message: true });
  assert.equal(locked.locked_types.message, true);
  await assert.rejects(student.event.createEvent(room, "message", { text: "no" }), (e) => e.type === "/problems/type_locked");
  await service.event.updateLockedTypes(room, { message: false });
  await assert.rejects(student.event.createEvent(room, "draw", { x: 1 }, { set: "board", label: "s1" }), (e) => e.type === "/problems/no_whiteboard_access");
  const access = await service.event.updateWhiteboardAccess(room, { [env.student_account]: true });
  assert.deepEqual(access.whiteboard_access, { [env.student_account]: true });
  const drawn = await student.event.createEvent(room, "draw", { x: 1 }, { set: "board", label: "s1" });
  assert.equal(drawn.type, "draw");
});

test("HTTPEvent editions and changes, and both commits", async () => {
  const recorded = env.minigroup.event_room_id; // the recording's original room (see the harness)
  const edition = await service.event.createEdition(recorded);
  assert.equal(edition.source_room_id, recorded);
  const listed = await service.event.listEdition(recorded);
  assert.ok(listed.some((e) => e.id === edition.id));
  const change = await service.event.createChange(edition.id, "addition", { type: "message", set: "messages", label: "x", data: { text: "added" }, occurred_at: 1000 });
  assert.equal(change.type, "addition");
  const changes = await service.event.listChange(edition.id);
  assert.deepEqual(changes.map((c) => c.id), [change.id]);
  await service.event.deleteChange(change.id);
  assert.deepEqual(await service.event.listChange(edition.id), []);
  await service.event.commitEdition(edition.id);
  const other = await service.event.createEdition(recorded);
  await service.dispatcher.commitEdition(audience, env.minigroup.scope, other.id);
  const doomed = await service.event.createEdition(recorded);
  await service.event.deleteEdition(doomed.id);
  assert.ok(!(await service.event.listEdition(recorded)).some((e) => e.id === doomed.id));
});

test("HTTPEvent.updateRoom with an end in the past closes the room now", async () => {
  const chatRoom = env.chat.event_room_id;
  const now = Math.floor(Date.now() / 1000);
  const closed = await service.event.updateRoom(chatRoom, { time: [now - 3600, now - 60] });
  assert.ok(closed.time[1] >= now - 1, JSON.stringify(closed.time));
  await assert.rejects(student.event.createEvent(chatRoom, "message", { text: "late" }), (e) => e.type === "/problems/room_closed");
});

test("errors arrive as problem+json the client can read", async () => {
  await assert.rejects(student.event.readRoom("00000000-0000-4000-8000-000000000000"), (e) => e.status === 404 && e.type === "/problems/room_not_found");
});
