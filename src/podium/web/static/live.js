// The event room's live socket, kept open: after a drop it reconnects by itself and resumes with
// `after=<last seq>`, so no stored event is missed and none is delivered twice. A ping every
// second finds a dead connection long before TCP would (a connection silent for 2 s is given up:
// a new one costs one request and resumes where the old one stopped), and the browser going
// back online (another network, a link back up) starts a fresh connection at once.

const PING_EVERY_MS = 1000;
const PONG_WITHIN_MS = 1000;
const FINAL_CODES = new Set([4401, 4404, 4003, 4422]); // no point reconnecting

export class Live {
  constructor(api, roomId, handlers) {
    this.api = api;
    this.roomId = roomId;
    this.handlers = handlers; // onEvent(event), onRoom(room), onState(state), onClosed(code, reason)
    this.lastSeq = 0;
    this.seen = new Set(); // seqs already handed out (a catch-up may overlap a live frame)
    this.reconnects = 0;
    this.socket = null;
    this.stopped = false;
    this.pending = new Map();
    this.refs = 0;
    this.backoff = 250;
  }

  start() {
    this.connect();
    this.online = () => this.renew();
    window.addEventListener("online", this.online);
  }

  // Start again from the room's first event: what a gate held back (the lobby lets only its own
  // events through) arrives now; what was delivered already is skipped.
  resync() {
    this.lastSeq = 0;
    this.renew();
  }

  // Drop the current connection (maybe stale after a network change) and open a new one.
  renew() {
    const socket = this.socket;
    if (this.stopped || !socket) return;
    this.socket = null;
    socket.onclose = null;
    socket.close();
    clearInterval(this.pinger);
    this.handlers.onState?.("reconnecting");
    this.reconnect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.online);
    clearInterval(this.pinger);
    if (this.socket) this.socket.close(1000, "left");
  }

  connect() {
    const url = this.api.socketUrl(`api/v1/event_rooms/${this.roomId}/live`, {
      access_token: this.api.token, after: String(this.lastSeq),
    });
    const socket = new WebSocket(url);
    this.socket = socket;
    this.handlers.onState?.("connecting");
    socket.onopen = () => {
      this.backoff = 250;
      this.handlers.onState?.("open");
      this.lastPong = Date.now();
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.ping(socket), PING_EVERY_MS);
    };
    socket.onmessage = (message) => this.receive(JSON.parse(message.data));
    socket.onclose = (close) => {
      clearInterval(this.pinger);
      if (this.socket !== socket) return;
      for (const { reject } of this.pending.values()) reject(new Error("the connection dropped"));
      this.pending.clear();
      if (this.stopped) return;
      if (FINAL_CODES.has(close.code)) {
        this.handlers.onClosed?.(close.code, close.reason);
        return;
      }
      this.handlers.onState?.("reconnecting");
      setTimeout(() => this.reconnect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 4000);
    };
  }

  reconnect() {
    if (this.stopped) return;
    this.reconnects += 1;
    this.connect();
  }

  ping(socket) {
    if (Date.now() - this.lastPong > PING_EVERY_MS + PONG_WITHIN_MS) {
      // No answer: the connection is dead though the browser has not noticed. Start over.
      if (this.socket === socket) this.renew();
      return;
    }
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ message: "ping" }));
  }

  receive(frame) {
    this.lastPong = Date.now();
    if (frame.message === "event") {
      const event = frame.event;
      if (event.seq != null) {
        if (this.seen.has(event.seq)) return;
        this.seen.add(event.seq);
        this.lastSeq = Math.max(this.lastSeq, event.seq);
      }
      this.handlers.onEvent?.(event);
    } else if (frame.message === "room") {
      this.handlers.onRoom?.(frame.room);
    } else if (frame.message === "reply") {
      const waiter = this.pending.get(frame.ref);
      this.pending.delete(frame.ref);
      if (!waiter) return;
      if (frame.error) waiter.reject(Object.assign(new Error(frame.error.detail), frame.error));
      else waiter.resolve(frame.event);
    }
  }

  // Post an event over the socket; resolves with the stored event (or null for a live-only one).
  post(event) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error("not connected; try again in a moment"));
    }
    const ref = `r${++this.refs}`;
    return new Promise((resolve, reject) => {
      this.pending.set(ref, { resolve, reject });
      this.socket.send(JSON.stringify({ ref, event }));
    });
  }
}
