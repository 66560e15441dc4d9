// The class's media on Janus's videoroom: join with the grant Podium hands out (POST …/media),
// publish where the role allows, subscribe to everyone publishing, and come back by itself after
// a network drop (same grant: Podium answers the same participant id and token again).

import { Janus, JanusError } from "./janus.js";
import { loudness } from "./devices.js";

const SPEAKING_LEVEL = 0.02;

export class Call {
  constructor({ api, classId, kind, name, stage, empty, onQuality, onGone }) {
    this.api = api;
    this.classId = classId;
    this.kind = kind;
    this.name = name;
    this.stage = stage;
    this.empty = empty;
    this.onQuality = onQuality; // (text) — the connection-quality hint
    this.onGone = onGone; // (why) — Podium took media access away, or the lobby holds us again
    this.stream = null;
    this.wantPublish = false;
    this.tiles = new Map();
    this.restarts = 0;
    this.stopped = false;
    this.audio = new AudioContext();
    this.janus = null;
  }

  async start(stream, wantPublish) {
    this.stream = stream;
    this.wantPublish = wantPublish;
    this.stage.classList.toggle("webinar", this.kind === "webinar");
    this.online = () => this.recheck();
    window.addEventListener("online", this.online);
    await this.join();
    this.watch = setInterval(() => this.observe(), 1000);
    this.listen = setInterval(() => this.speakers(), 100);
  }

  // Every peer connection of the call: the one publishing and those subscribed.
  peers() {
    return [this.handle?.pc, ...[...this.tiles.values()].map((e) => e?.handle?.pc)].filter(Boolean);
  }

  // Back online: media whose connection did not survive the change starts again.
  recheck() {
    const down = (pc) => !["connected", "completed"].includes(pc.iceConnectionState);
    if (!this.janus?.alive || this.peers().some(down)) {
      this.restart("back online");
    }
  }

  async join() {
    const grant = await this.api.post(`api/v1/classes/${this.classId}/media`);
    this.grant = grant;
    const janus = new Janus(grant.janus_url);
    this.janus = janus;
    janus.onLost = () => this.restart("media server unreachable");
    await janus.connect();
    const handle = await janus.attach();
    this.handle = handle;
    handle.onEvent = (data) => this.onRoomEvent(data);
    handle.onHangup = () => this.restart("hung up");
    const { data } = await handle.message({
      request: "join", ptype: "publisher", room: grant.room, id: grant.participant_id,
      token: grant.token, display: this.name,
    });
    this.privateId = data.private_id;
    for (const publisher of data.publishers || []) this.follow(publisher);
    if (this.wantPublish && grant.role === "publisher" && this.stream) await this.publish();
    this.updateEmpty();
  }

  // Send or stop sending (a webinar's stage changed hands): join again, the same grant.
  async setPublishing(stream) {
    if (!stream) this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = stream;
    this.wantPublish = Boolean(stream);
    await this.restart(stream ? "presenting" : "stage handed over");
  }

  async publish() {
    // A webinar's room takes one publisher: the one handing over may not have stopped yet.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.publishOnce();
      } catch (error) {
        if (!(error instanceof JanusError) || error.code !== 432 || attempt >= 8) throw error;
        this.handle.closePeer();
        await new Promise((resolve) => setTimeout(resolve, 750));
      }
    }
  }

  async publishOnce() {
    const pc = this.handle.peer(this.grant.ice_servers);
    for (const track of this.stream.getTracks()) pc.addTrack(track, this.stream);
    pc.oniceconnectionstatechange = () => this.iceChanged(pc);
    await pc.setLocalDescription(await pc.createOffer());
    const { jsep } = await this.handle.message(
      { request: "configure", audio: this.stream.getAudioTracks().length > 0,
        video: this.stream.getVideoTracks().length > 0 },
      { type: pc.localDescription.type, sdp: pc.localDescription.sdp },
    );
    await pc.setRemoteDescription(jsep);
    this.addTile("me", `${this.name} (you)`, this.stream, true);
    this.publishing = true;
  }

  onRoomEvent(data) {
    for (const publisher of data.publishers || []) this.follow(publisher);
    // `leaving: "ok"` is about us: Podium hung us up (access revoked, or the lobby holds us).
    if (data.leaving === "ok") return this.kicked();
    const gone = data.unpublished ?? data.leaving;
    if (gone != null && gone !== "ok") this.dropTile(String(gone));
  }

  async kicked() {
    if (this.stopped) return;
    await this.teardown();
    try {
      await this.api.post(`api/v1/classes/${this.classId}/media`);
      this.restart("kicked");
    } catch (error) {
      this.stopped = true;
      this.onGone?.(error);
    }
  }

  // Subscribe in the background; a feed that could not be had is forgotten (it is offered again
  // when it publishes again, and a restart lists everyone anew).
  follow(publisher) {
    this.subscribe(publisher).catch(() => {
      if (this.tiles.get(String(publisher.id)) === null) this.tiles.delete(String(publisher.id));
    });
  }

  async subscribe(publisher) {
    const feed = String(publisher.id);
    if (this.tiles.has(feed) || feed === String(this.grant.participant_id)) return;
    this.tiles.set(feed, null); // reserved while the subscription is set up
    const handle = await this.janus.attach();
    const { jsep } = await handle.message({
      request: "join", ptype: "subscriber", room: this.grant.room, streams: [{ feed }],
      private_id: this.privateId, token: this.grant.token,
    });
    const pc = handle.peer(this.grant.ice_servers);
    const stream = new MediaStream();
    pc.ontrack = (e) => stream.addTrack(e.track);
    pc.oniceconnectionstatechange = () => this.iceChanged(pc);
    await pc.setRemoteDescription(jsep);
    await pc.setLocalDescription(await pc.createAnswer());
    await handle.message({ request: "start" },
      { type: pc.localDescription.type, sdp: pc.localDescription.sdp });
    this.addTile(feed, publisher.display || "Someone", stream, false, handle);
  }

  addTile(feed, label, stream, mine, handle = null) {
    this.dropTile(feed);
    const tile = document.createElement("figure");
    tile.className = "tile";
    tile.dataset.feed = feed;
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    video.muted = mine; // never hear yourself
    video.srcObject = stream;
    video.setAttribute("aria-label", `Video of ${label}`);
    const caption = document.createElement("figcaption");
    caption.className = "name";
    caption.textContent = label;
    tile.append(video, caption);
    if (mine) this.stage.prepend(tile);
    else this.stage.append(tile);
    let level = () => 0;
    stream.onaddtrack = () => { level = loudness(this.audio, stream); };
    if (stream.getAudioTracks().length) level = loudness(this.audio, stream);
    this.tiles.set(feed, { tile, video, handle, stream, level: () => level() });
    this.updateEmpty();
  }

  dropTile(feed) {
    const entry = this.tiles.get(feed);
    if (!entry) return;
    entry.tile.remove();
    entry.handle?.detach();
    this.tiles.delete(feed);
    this.updateEmpty();
  }

  updateEmpty() {
    this.empty.hidden = [...this.tiles.values()].some(Boolean);
  }

  // Ten times a second: who speaks — the loudest above a floor, each level held a moment
  // (a decaying peak) so that syllables and short sounds do not make the highlight flicker.
  speakers() {
    let loudest = null;
    let top = SPEAKING_LEVEL;
    for (const [feed, entry] of this.tiles) {
      if (!entry) continue;
      entry.peak = Math.max(entry.level(), (entry.peak || 0) * 0.9);
      if (entry.peak > top) [loudest, top] = [feed, entry.peak];
    }
    for (const [feed, entry] of this.tiles) entry?.tile.classList.toggle("speaking", feed === loudest);
  }

  // Each second: how the connection is.
  async observe() {
    this.onQuality?.(await this.quality());
  }

  async quality() {
    const pcs = this.peers();
    if (!pcs.length) return this.janus?.alive ? "Connection: good" : "Connection: reconnecting";
    let rtt = 0;
    let lost = 0;
    let received = 0;
    for (const pc of pcs) {
      if (["disconnected", "failed"].includes(pc.iceConnectionState)) return "Connection: reconnecting";
      (await pc.getStats()).forEach((s) => {
        if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime) rtt = Math.max(rtt, s.currentRoundTripTime);
        if (s.type === "inbound-rtp") { lost += s.packetsLost || 0; received += s.packetsReceived || 0; }
      });
    }
    const loss = received ? lost / (lost + received) : 0;
    if (rtt > 0.5 || loss > 0.08) return "Connection: poor";
    if (rtt > 0.25 || loss > 0.02) return "Connection: fair";
    return "Connection: good";
  }

  iceChanged(pc) {
    if (pc.iceConnectionState === "failed") this.restart("ICE failed");
    if (pc.iceConnectionState === "disconnected") {
      setTimeout(() => { if (pc.iceConnectionState === "disconnected") this.restart("ICE lost"); }, 3000);
    }
  }

  async restart(why) {
    if (this.stopped || this.restarting) return;
    this.restarting = true;
    this.restarts += 1;
    this.onQuality?.("Connection: reconnecting");
    await this.teardown();
    for (let delay = 500; !this.stopped; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.join();
        break;
      } catch (error) {
        if (error.status === 403 || error.status === 409 || error.status === 412 || error.status === 404) {
          this.stopped = true;
          this.onGone?.(error);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    this.restarting = false;
  }

  async teardown() {
    for (const feed of [...this.tiles.keys()]) {
      const entry = this.tiles.get(feed);
      if (entry) entry.tile.remove();
      this.tiles.delete(feed);
    }
    this.publishing = false;
    if (this.janus) await this.janus.destroy();
    this.janus = null;
  }

  setMic(on) {
    this.stream?.getAudioTracks().forEach((t) => { t.enabled = on; });
  }

  setCamera(on) {
    this.stream?.getVideoTracks().forEach((t) => { t.enabled = on; });
  }

  // Share the screen in place of the camera (the same video sender): nobody re-subscribes.
  async shareScreen(on) {
    const sender = this.handle?.pc?.getSenders().find((s) => s.track?.kind === "video" || s === this.videoSender);
    if (!sender) throw new Error("start your camera first: the screen takes its place");
    this.videoSender = sender;
    if (on) {
      const screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
      const track = screen.getVideoTracks()[0];
      this.cameraTrack = sender.track;
      await sender.replaceTrack(track);
      track.onended = () => this.shareScreen(false);
      return true;
    }
    if (sender.track && sender.track !== this.cameraTrack) sender.track.stop();
    await sender.replaceTrack(this.cameraTrack || null);
    return false;
  }

  async leave() {
    this.stopped = true;
    window.removeEventListener("online", this.online);
    clearInterval(this.watch);
    clearInterval(this.listen);
    await this.teardown();
    this.stream?.getTracks().forEach((t) => t.stop());
  }
}

