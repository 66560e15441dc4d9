// A small client of Janus's JSON API over HTTP (long-poll for events), enough for the videoroom
// plugin: a session, handles, requests answered by events, trickled ICE candidates.
// The protocol is Janus's documented one: https://janus.conf.meetecho.com/docs/rest.html

const KEEPALIVE_MS = 25000;

export class JanusError extends Error {
  constructor(code, reason) {
    super(`${code}: ${reason}`);
    this.code = code;
  }
}

function transaction() {
  return Math.random().toString(36).slice(2, 14);
}

export class Janus {
  constructor(url) {
    this.url = url.replace(/\/$/, "");
    this.sessionId = null;
    this.handles = new Map();
    this.waiting = new Map();
    this.alive = false;
    this.onLost = null; // called once when the session cannot be reached any more
    this.failures = 0;
  }

  async send(path, body) {
    const response = await fetch(`${this.url}${path}`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ transaction: transaction(), ...body }), credentials: "omit",
    });
    const reply = await response.json();
    if (reply.janus === "error") throw new JanusError(reply.error.code, reply.error.reason);
    return reply;
  }

  async connect() {
    const reply = await this.send("", { janus: "create" });
    this.sessionId = reply.data.id;
    this.alive = true;
    this.poll();
    this.keepalive = setInterval(() => {
      this.send(`/${this.sessionId}`, { janus: "keepalive" }).catch(() => {});
    }, KEEPALIVE_MS);
  }

  async poll() {
    while (this.alive) {
      let batch;
      try {
        const response = await fetch(`${this.url}/${this.sessionId}?maxev=10&rid=${Date.now()}`,
          { cache: "no-store", credentials: "omit" });
        batch = await response.json();
        this.failures = 0;
      } catch (error) {
        this.failures += 1;
        if (this.failures >= 3) return this.lost();
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      for (const event of Array.isArray(batch) ? batch : [batch]) this.route(event);
    }
  }

  lost() {
    if (!this.alive) return;
    this.close();
    this.onLost?.();
  }

  route(event) {
    if (event.janus === "keepalive") return;
    if (event.janus === "error" && event.error?.code === 458) return this.lost(); // no session
    const waiter = event.transaction && this.waiting.get(event.transaction);
    if (waiter && event.janus === "event") {
      this.waiting.delete(event.transaction);
      const data = event.plugindata?.data || {};
      if (data.error_code) waiter.reject(new JanusError(data.error_code, data.error));
      else waiter.resolve({ data, jsep: event.jsep || null });
      return;
    }
    this.handles.get(event.sender)?.receive(event);
  }

  async attach(plugin = "janus.plugin.videoroom") {
    const reply = await this.send(`/${this.sessionId}`, { janus: "attach", plugin });
    const handle = new Handle(this, reply.data.id);
    this.handles.set(handle.id, handle);
    return handle;
  }

  close() {
    this.alive = false;
    clearInterval(this.keepalive);
    for (const waiter of this.waiting.values()) waiter.reject(new Error("Janus went away"));
    this.waiting.clear();
    for (const handle of this.handles.values()) handle.closePeer();
  }

  async destroy() {
    const id = this.sessionId;
    this.close();
    if (id != null) await this.send(`/${id}`, { janus: "destroy" }).catch(() => {});
  }
}

export class Handle {
  constructor(janus, id) {
    this.janus = janus;
    this.id = id;
    this.pc = null;
    this.onEvent = null; // plugin events without a transaction (publishers, leaving, kicked…)
    this.onHangup = null;
    this.candidates = [];
    this.sentJsep = false;
  }

  path() {
    return `/${this.janus.sessionId}/${this.id}`;
  }

  // A plugin request; resolves with {data, jsep} from its event (or its synchronous answer).
  async message(body, jsep = null) {
    const tx = transaction();
    const answered = new Promise((resolve, reject) => this.janus.waiting.set(tx, { resolve, reject }));
    answered.catch(() => {}); // rejected while the request is still in flight: the caller hears it below
    const request = { janus: "message", body, transaction: tx };
    if (jsep) request.jsep = jsep;
    let reply;
    try {
      reply = await this.janus.send(this.path(), request);
    } catch (error) {
      this.janus.waiting.delete(tx);
      throw error;
    }
    if (jsep) this.flushCandidates();
    if (reply.janus === "success") {
      this.janus.waiting.delete(tx);
      const data = reply.plugindata?.data || {};
      if (data.error_code) throw new JanusError(data.error_code, data.error);
      return { data, jsep: null };
    }
    return answered;
  }

  // A peer connection whose ICE candidates trickle to Janus once the offer/answer went out.
  peer(iceServers) {
    this.pc = new RTCPeerConnection({ iceServers });
    this.pc.onicecandidate = (e) => {
      const candidate = e.candidate ? e.candidate.toJSON() : { completed: true };
      if (this.sentJsep) this.trickle(candidate);
      else this.candidates.push(candidate);
    };
    return this.pc;
  }

  flushCandidates() {
    this.sentJsep = true;
    for (const candidate of this.candidates.splice(0)) this.trickle(candidate);
  }

  trickle(candidate) {
    this.janus.send(this.path(), { janus: "trickle", candidate }).catch(() => {});
  }

  receive(event) {
    if (event.janus === "hangup") this.onHangup?.(event.reason);
    else if (event.janus === "event") this.onEvent?.(event.plugindata?.data || {}, event.jsep);
  }

  closePeer() {
    if (this.pc) this.pc.close();
    this.pc = null;
  }

  async detach() {
    this.closePeer();
    this.janus.handles.delete(this.id);
    await this.janus.send(this.path(), { janus: "detach" }).catch(() => {});
  }
}
