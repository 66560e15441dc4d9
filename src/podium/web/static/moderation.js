// What owners and moderators see besides the class: the lobby's waiting queue (admit, deny, admit
// all, the message), the lobby and the chat lock, the people (remove), and ending the class.

import { CHAT_TYPES } from "./chat.js";

function button(text, label, onClick, danger = false) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  if (danger) b.className = "danger";
  b.addEventListener("click", onClick);
  return b;
}

export class Moderation {
  constructor({ api, classId, roomId, me, kind, host, elements, say }) {
    this.api = api;
    this.kind = kind;
    this.host = host; // whose stage it is (a webinar's presenter)
    this.classId = classId;
    this.roomId = roomId;
    this.me = me;
    this.el = elements;
    this.say = say; // (text) — a status line for everyone using a screen reader too
    this.waiting = new Map();
    const lobby = `api/v1/classes/${classId}/lobby`;
    this.el.admitAll.addEventListener("click", () => this.act(() => this.api.post(`${lobby}/admit`, { all: true }), "Everyone waiting was let in."));
    this.el.messageForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const message = this.el.messageInput.value.trim() || null;
      this.act(() => this.api.put(`${lobby}/message`, { message }), "The message was set.");
    });
    this.el.lobbyToggle.addEventListener("click", () => {
      const state = this.lobbyOn ? 0 : 1;
      this.act(() => this.api.put(`api/v1/classes/${classId}/lobby`, { state }), state ? "The lobby is on." : "The lobby is off.");
    });
    this.el.chatLock.addEventListener("click", () => {
      const locked = !this.chatLocked;
      const types = Object.fromEntries(CHAT_TYPES.map((t) => [t, locked]));
      this.act(() => this.api.post(`api/v1/event_rooms/${roomId}/locked_types`, { locked_types: types }), locked ? "The chat is locked." : "The chat is open.");
    });
    this.el.endClass.addEventListener("click", () => {
      if (!confirm("End the class for everyone?")) return;
      this.act(() => this.api.post(`api/v1/classes/${classId}/end`), "The class ended.");
    });
  }

  async start(lobby) {
    this.el.panel.hidden = false;
    this.setLobby(lobby);
    const queue = await this.api.get(`api/v1/classes/${this.classId}/lobby/queue`);
    for (const person of queue) this.waiting.set(String(person.participant_id), person.display_name);
    this.renderQueue();
    await this.refreshPeople();
  }

  async act(call, done) {
    try {
      await call();
      this.say(done);
    } catch (error) {
      this.say(`That did not work: ${error.message}`);
    }
  }

  setLobby(lobby) {
    this.lobbyOn = lobby.state === 1;
    this.el.lobbyToggle.textContent = this.lobbyOn ? "Turn the lobby off" : "Turn the lobby on";
    this.el.lobbyToggle.setAttribute("aria-pressed", String(this.lobbyOn));
    if (lobby.message !== undefined && document.activeElement !== this.el.messageInput) {
      this.el.messageInput.value = lobby.message || "";
    }
  }

  setChatLocked(locked) {
    this.chatLocked = locked;
    this.el.chatLock.textContent = locked ? "Unlock the chat" : "Lock the chat";
    this.el.chatLock.setAttribute("aria-pressed", String(locked));
  }

  // The room's lobby events, live.
  onEvent(event) {
    const data = event.data || {};
    if (event.type === "presenter") {
      this.host = data.account_id;
      this.refreshPeople();
      return;
    }
    if (event.type === "lobby") this.setLobby(data);
    else if (event.type === "lobby.message") this.setLobby({ state: this.lobbyOn ? 1 : 0, message: data.message });
    else if (event.type === "lobby.waiting") this.waiting.set(String(data.participant_id), data.display_name);
    else if (event.type === "lobby.admit" || event.type === "lobby.deny") {
      for (const id of data.participant_ids || []) this.waiting.delete(String(id));
      if (event.type === "lobby.admit") this.refreshPeople();
    } else return;
    this.renderQueue();
  }

  renderQueue() {
    const lobby = `api/v1/classes/${this.classId}/lobby`;
    this.el.queue.replaceChildren();
    for (const [id, name] of this.waiting) {
      const item = document.createElement("li");
      const label = document.createElement("span");
      label.textContent = name || "Someone";
      item.append(label,
        button("Admit", `Admit ${name}`, () => this.act(() => this.api.post(`${lobby}/admit`, { participant_ids: [id] }), `${name} was let in.`)),
        button("Deny", `Deny ${name}`, () => this.act(() => this.api.post(`${lobby}/deny`, { participant_ids: [id] }), `${name} was turned away.`), true));
      this.el.queue.append(item);
    }
    this.el.queueEmpty.hidden = this.waiting.size > 0;
    this.el.admitAll.disabled = this.waiting.size === 0;
  }

  async refreshPeople() {
    const page = await this.api.get(`api/v1/classes/${this.classId}/participants?limit=500`);
    this.el.people.replaceChildren();
    for (const person of page.participants) {
      const item = document.createElement("li");
      const label = document.createElement("span");
      label.textContent = `${person.display_name || person.account_id} · ${person.role}`;
      item.append(label);
      if (this.kind === "webinar" && person.account_id !== this.host) {
        const who = person.display_name || person.account_id;
        item.append(button("Make presenter", `Make ${who} the presenter`, () => this.act(
          () => this.api.post(`api/v1/classes/${this.classId}/presenter`, { account_id: person.account_id }),
          `${who} presents now.`)));
      }
      if (person.participant_id !== this.me.participantId) {
        item.append(button("Remove", `Remove ${person.display_name || person.account_id}`, () => {
          if (!confirm(`Remove ${person.display_name || person.account_id} from the class?`)) return;
          this.act(async () => {
            await this.api.delete(`api/v1/participants/${person.participant_id}`);
            await this.refreshPeople();
          }, "They were removed.");
        }, true));
      }
      this.el.people.append(item);
    }
  }
}
