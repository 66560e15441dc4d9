// The class's chat: the event room's `message` events, history first (the live socket's
// catch-up), then live; each message once, in the room's order.

export const CHAT_TYPES = ["message", "reaction", "question", "question_reaction"];

export class Chat {
  constructor({ list, form, input, notice, post }) {
    this.list = list;
    this.form = form;
    this.input = input;
    this.notice = notice;
    this.post = post; // (event) => Promise
    this.shown = new Set();
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.send();
    });
  }

  async send() {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.disabled = true;
    try {
      await this.post({ type: "message", data: { text, name: this.name } });
      this.input.value = "";
    } catch (error) {
      this.notice.textContent = `Your message was not sent: ${error.detail || error.message}`;
      this.notice.hidden = false;
    } finally {
      this.input.disabled = this.locked;
      this.input.focus();
    }
  }

  add(event) {
    if (event.type !== "message" || event.removed || this.shown.has(event.id)) return;
    this.shown.add(event.id);
    const item = document.createElement("li");
    item.dataset.seq = event.seq ?? "";
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = event.data?.name || event.created_by;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = String(event.data?.text ?? "");
    item.append(who, text);
    // In the room's order, also for history that arrives after newer messages (see Live.resync).
    const later = event.seq == null ? null
      : [...this.list.children].find((li) => li.dataset.seq !== "" && Number(li.dataset.seq) > event.seq);
    this.list.insertBefore(item, later || null);
    this.list.scrollTop = this.list.scrollHeight;
  }

  // Locked chat: everyone reads it, only those who manage the class write.
  setLocked(locked, manages) {
    this.locked = locked && !manages;
    this.input.disabled = this.locked;
    this.form.querySelector("button").disabled = this.locked;
    this.notice.hidden = !locked;
    this.notice.textContent = !locked ? "" : manages
      ? "The chat is locked: only moderators can write."
      : "A moderator locked the chat: you can read it, but not write for now.";
  }
}
