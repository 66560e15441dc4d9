// The entry link's page: get ready, wait in the lobby, take part, leave. One state at a time is
// shown (prejoin, lobby, call, final); `window.podium` tells tests (and curious people) where the
// page stands.

import { Api, ApiError } from "./api.js";
import { Call } from "./call.js";
import { Chat } from "./chat.js";
import { Devices } from "./devices.js";
import { Live } from "./live.js";
import { Moderation } from "./moderation.js";

const $ = (id) => document.getElementById(id);
const page = document.body.dataset;
const entryToken = decodeURIComponent(location.pathname.split("/").pop());
// The access token survives a reload of this tab (a single-use link opens only once).
const storeKey = `podium:${entryToken.slice(-22)}`;
const manages = page.manages === "true"; // the server's rule (owners and moderators), not ours
const podium = (window.podium = { state: "prejoin" });
let session = null;
let api = null;
let live = null;
let call = null;
let chat = null;
let moderation = null;
let devices = null;

const FINAL = {
  denied: ["You were not let in", "The organiser turned your request away."],
  removed: ["You were removed from the class", "An organiser removed you, so your link no longer works."],
  ended: ["The class has ended", "Thank you for taking part."],
  left: ["You left the class", "You can close this page, or reload it to join again."],
  expired: ["Your session expired", "Open your link again to come back in."],
};

function show(state) {
  podium.state = state;
  for (const id of ["prejoin", "lobby", "call", "final"]) $(id).hidden = id !== state;
  document.body.dataset.state = state;
}

function say(text) {
  $("status").textContent = text;
}

async function finish(kind) {
  if (podium.state === "final") return;
  const [title, text] = FINAL[kind];
  $("final-title").textContent = title;
  $("final-text").textContent = text;
  podium.final = kind;
  show("final");
  $("final-title").focus?.();
  live?.stop();
  const leaving = call;
  call = null;
  await leaving?.leave();
  devices?.stopTracks();
  if (kind !== "left") sessionStorage.removeItem(storeKey);
}

function formatTimes() {
  for (const time of document.querySelectorAll("time[data-unix]")) {
    const when = new Date(Number(time.dataset.unix) * 1000);
    time.textContent = when.toLocaleString([], { dateStyle: "full", timeStyle: "short" });
  }
}

// Whether this person sends media: everyone in a minigroup or session; in a webinar, the host
// and those who manage the class (Podium's media join decides for good).
function mayPublish(kind, accountId = null, host = null) {
  if (kind !== "webinar") return true;
  return host == null ? manages : host === accountId;
}

async function prejoin() {
  show("prejoin");
  devices = new Devices({
    video: $("preview"), meter: $("level"), cameraSelect: $("camera"),
    micSelect: $("microphone"), note: $("preview-note"),
  });
  if (page.kind !== "webinar" || manages) { // a webinar's presenter is known once in
    await devices.open();
    $("camera").addEventListener("change", () => devices.open());
    $("microphone").addEventListener("change", () => devices.open());
  } else {
    for (const id of ["preview-box", "device-pickers"]) $(id).hidden = true;
    for (const id of ["camera-off", "mic-off"]) $(id).parentElement.hidden = true;
  }
  $("prejoin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("join-button").disabled = true;
    try {
      await enter();
    } catch (error) {
      say(`Could not join: ${error.message}`);
      $("join-button").disabled = false;
    }
  });
}

async function enter() {
  const answer = await new Api().post("api/v1/join", { entry_token: entryToken });
  session = { ...answer, expires_at: Date.now() + answer.expires_in * 1000 };
  sessionStorage.setItem(storeKey, JSON.stringify(session));
  api = new Api(session.access_token);
  const name = $("name").value.trim();
  if (manages && name && name !== answer.participant.display_name) {
    await api.put(`api/v1/participants/${answer.participant.participant_id}`, { display_name: name })
      .catch(() => {});
  }
  await begin(answer.lobby);
}

async function begin(lobby) {
  api ??= new Api(session.access_token);
  podium.participantId = session.participant.participant_id;
  podium.accountId = session.participant.account_id;
  const room = session.class.real_time.event_room_id;
  live = podium.live = new Live(api, room, {
    onEvent, onRoom,
    onState: (s) => { podium.socket = s; say(s === "open" ? "" : s === "reconnecting" ? "Reconnecting…" : ""); },
    onClosed: (code) => finish(code === 4003 ? "removed" : code === 4401 ? "expired" : "ended"),
  });
  if (lobby?.denied) return finish("denied");
  live.start();
  if (lobby?.blocked) return waitInLobby(lobby);
  return enterCall();
}

function waitInLobby(lobby) {
  show("lobby");
  setLobbyMessage(lobby.message);
  const timer = $("lobby-timer");
  timer.hidden = !lobby.timer;
  if (lobby.timer) {
    timer.textContent = `The lobby opens by itself at ${new Date(lobby.timer * 1000).toLocaleTimeString()}.`;
  }
}

function setLobbyMessage(message) {
  $("lobby-message").hidden = !message;
  $("lobby-message").textContent = message ? `From the organiser: ${message}` : "";
}

function onEvent(event) {
  const data = event.data || {};
  const mine = (data.participant_ids || []).map(String).includes(podium.participantId);
  if (event.type === "lobby" && data.state === 0 && podium.state === "lobby") enterCall();
  else if (event.type === "lobby.admit" && mine && podium.state === "lobby") enterCall();
  else if (event.type === "lobby.deny" && mine) finish("denied");
  else if (event.type === "lobby.message" || event.type === "lobby") setLobbyMessage(data.message);
  else if (event.type === "presenter") onPresenter(data.account_id ?? null);
  else if (event.type === "reaction") showReaction(event);
  else if (event.type === "hand" && data.raised) showReaction({ data: { ...data, reaction: "hand" } });
  chat?.add(event);
  moderation?.onEvent(event);
}

function onRoom(room) {
  const locked = Boolean(room.locked_types?.message);
  chat?.setLocked(locked, manages);
  moderation?.setChatLocked(locked);
  if (room.time?.[1] != null && room.time[1] * 1000 <= Date.now() + 1000) finish("ended");
}

// A webinar's stage changed hands: the new presenter starts sending, whoever sent stops.
async function onPresenter(account) {
  session.class.real_time.host = account;
  if (!call || session.class.kind !== "webinar") return;
  const mine = account != null && account === podium.accountId;
  if (mine && !call.publishing) {
    say("You are the presenter now: your camera and microphone are on.");
    const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true }).catch(() => null);
    if (!stream) return say("You are the presenter, but your camera and microphone are not available.");
    setupControls(stream, session.participant.permissions || {});
    await call.setPublishing(stream);
  } else if (!mine && call.wantPublish) {
    say("Someone else presents now.");
    setupControls(null, session.participant.permissions || {});
    await call.setPublishing(null);
  }
}

const REACTIONS = { thumbs_up: "👍", applause: "👏", smile: "😀", hand: "✋" };

function showReaction(event) {
  const feed = $("reaction-feed");
  feed.textContent = `${REACTIONS[event.data.reaction] || ""} ${event.data.name || "Someone"}`;
  clearTimeout(showReaction.timer);
  showReaction.timer = setTimeout(() => { feed.textContent = ""; }, 4000);
}

function post(event) {
  return live.post(event).catch((error) => {
    if (error.status) throw error; // refused by Podium: say so
    // Not connected at this instant: the HTTP route stores it the same way.
    return api.post(`api/v1/event_rooms/${live.roomId}/events`, event);
  });
}

async function enterCall() {
  if (podium.state === "call" || podium.state === "final") return;
  if (podium.state === "lobby") live.resync(); // the chat the lobby's gate held back
  show("call");
  $("call-heading").focus?.();
  const name = $("name").value.trim() || session.participant.display_name || "Guest";
  chat ??= podium.chat = new Chat({
    list: $("messages"), form: $("chat-form"), input: $("chat-text"), notice: $("chat-locked"), post,
  });
  chat.name = name;
  try {
    onRoom(await api.get(`api/v1/event_rooms/${live.roomId}`));
  } catch (error) { /* the socket's room frames will tell */ }
  if (manages && !moderation) {
    moderation = new Moderation({
      api, classId: session.class.class_id, roomId: live.roomId, me: { participantId: podium.participantId }, say,
      kind: session.class.kind, host: session.class.real_time.host ?? null,
      elements: {
        panel: $("moderation"), queue: $("queue"), queueEmpty: $("queue-empty"), admitAll: $("admit-all"),
        messageForm: $("lobby-message-form"), messageInput: $("lobby-message-text"),
        lobbyToggle: $("lobby-toggle"), chatLock: $("chat-lock"), people: $("people"), endClass: $("end-class"),
      },
    });
    await moderation.start(session.class.lobby).catch((e) => say(e.message));
  }
  const cls = session.class;
  const publishing = mayPublish(cls.kind, podium.accountId, cls.real_time.host);
  let stream = publishing ? (devices?.handOver() || null) : null;
  if (publishing && !stream) { // a webinar's presenter, known once in: no preview was opened
    stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true }).catch(() => null);
  }
  if (stream) {
    stream.getVideoTracks().forEach((t) => { t.enabled = !$("camera-off").checked; });
    stream.getAudioTracks().forEach((t) => { t.enabled = !$("mic-off").checked; });
  }
  call = podium.call = new Call({
    api, classId: cls.class_id, kind: cls.kind, name, stage: $("stage"), empty: $("stage-empty"),
    onQuality: (text) => { $("quality").textContent = text; },
    onGone: (error) => {
      if (error?.code === "lobby_blocked") {
        call = null;
        return waitInLobby(cls.lobby);
      }
      return finish(error?.code === "class_closed" ? "ended" : "removed");
    },
  });
  setupControls(stream, session.participant.permissions || {});
  try {
    await call.start(stream, publishing);
  } catch (error) {
    if (error instanceof ApiError && error.code === "lobby_blocked") return waitInLobby(cls.lobby);
    if (error instanceof ApiError && ["media_revoked"].includes(error.code)) return finish("removed");
    if (error instanceof ApiError && error.code === "class_closed") return finish("ended");
    if (error instanceof ApiError && error.code === "no_media_room") {
      $("stage-empty").textContent = "This class has no video: chat, hands and reactions work.";
      $("quality").textContent = "";
      stream?.getTracks().forEach((t) => t.stop());
      for (const id of ["mic", "cam", "screen"]) $(id).hidden = true;
      return;
    }
    say(`The video could not start (${error.message}); retrying…`);
    call.restart("start failed");
  }
}

function toggle(button, on, captions) {
  button.setAttribute("aria-pressed", String(on));
  button.querySelector(".caption").textContent = captions[on ? 1 : 0];
}

function setupControls(stream, permissions) {
  const mic = $("mic"), cam = $("cam"), screen = $("screen"), hand = $("hand");
  mic.hidden = !stream?.getAudioTracks().length;
  cam.hidden = !stream?.getVideoTracks().length;
  screen.hidden = !stream || !navigator.mediaDevices.getDisplayMedia || permissions.screen === false;
  let micOn = !$("mic-off").checked, camOn = !$("camera-off").checked, sharing = false, raised = false;
  toggle(mic, !micOn, ["Mute", "Unmute"]);
  toggle(cam, !camOn, ["Camera off", "Camera on"]);
  mic.onclick = () => { micOn = !micOn; call?.setMic(micOn); toggle(mic, !micOn, ["Mute", "Unmute"]); };
  cam.onclick = () => { camOn = !camOn; call?.setCamera(camOn); toggle(cam, !camOn, ["Camera off", "Camera on"]); };
  screen.onclick = async () => {
    try {
      sharing = await call.shareScreen(!sharing);
      toggle(screen, sharing, ["Share screen", "Stop sharing"]);
    } catch (error) { say(`Screen sharing: ${error.message}`); }
  };
  hand.onclick = async () => {
    raised = !raised;
    toggle(hand, raised, ["Raise hand", "Lower hand"]);
    await post({ type: "hand", set: "hand", label: podium.accountId, data: { raised, name: chat.name } })
      .catch((e) => say(e.detail || e.message));
  };
  for (const b of document.querySelectorAll("[data-reaction]")) {
    b.onclick = () => post({ type: "reaction", is_persistent: false, data: { reaction: b.dataset.reaction, name: chat.name } })
      .catch((e) => say(e.detail || e.message));
  }
  $("leave").onclick = () => finish("left");
}

async function main() {
  formatTimes();
  const saved = JSON.parse(sessionStorage.getItem(storeKey) || "null");
  if (saved && saved.expires_at > Date.now() && (!page.refusal || page.refusal === "link_used")) {
    // Back in the same tab (a reload): carry on with the access token already held.
    session = saved;
    return begin({ blocked: false }).catch(() => finish("expired"));
  }
  if (page.refusal) {
    podium.state = "refused";
    return;
  }
  await prejoin();
}

main();
