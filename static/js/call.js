// One audio/video call at a table of a room: the local media and one RTCPeerConnection per
// other participant (a mesh), signalled over the room socket (docs/websocket-protocol.md,
// "Calls"). No DOM here: the page listens to the events below and draws the call.
//
// Events (CustomEvent, `detail` in brackets):
//   "state"     [{state}]          idle → starting → joining → in (→ rejoining → in) → idle
//   "local"     []                 what this side sends changed (mute, camera, screen)
//   "peer"      [peer]             a participant arrived, changed media or connection state
//   "peerleave" [{peer, reason}]   a participant's tile should go: "left", "dropped", "reset"
//
// Negotiation: the newcomer offers to everyone already at the table, who only answer, so two
// sides never offer to each other at once. Every connection negotiates one audio and one
// video transceiver, both send-and-receive, from the start, even for a member who joined
// with the microphone only: turning the camera on or sharing the screen later is then a
// `replaceTrack` on the video sender, with no renegotiation.

const DROP_AFTER_MS = 5000; // a "disconnected" connection that does not recover by then

export const callsSupported = Boolean(window.RTCPeerConnection && navigator.mediaDevices?.getUserMedia);
export const screenSharingSupported = Boolean(navigator.mediaDevices?.getDisplayMedia);

export class Call extends EventTarget {
  /** `send(frame)` puts a frame on the room socket and says whether it could. */
  constructor(send) {
    super();
    this.send = send;
    this.state = "idle";
    this.table = null;
    this.self = null; // our peer id, new on every join
    this.iceServers = [];
    this.renewTimer = null; // asks for new TURN credentials while in the call
    this.peers = new Map(); // peer id -> participant (see #addPeer)
    this.microphone = null;
    this.camera = null;
    this.screen = null;
    this.muted = false;
  }

  /** What this side sends now, as `call.media` says it. */
  get media() {
    return {
      audio: Boolean(this.microphone) && !this.muted,
      video: Boolean(this.camera) && !this.screen,
      screen: Boolean(this.screen),
    };
  }

  /** The track the video sender carries: the shared screen first, else the camera. */
  get outgoingVideo() {
    return this.screen || this.camera;
  }

  /**
   * Asks for the microphone (and the camera when `video`), then asks the server for a seat.
   * Rejects with the browser's DOMException when the devices cannot be had; the caller
   * explains it (NotAllowedError, NotFoundError, NotReadableError...).
   */
  async join({ table, video }) {
    this.#setState("starting");
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video });
      this.microphone = stream.getAudioTracks()[0] || null;
      this.camera = stream.getVideoTracks()[0] || null;
    } catch (error) {
      this.#setState("idle");
      throw error;
    }
    if (this.state !== "starting") {
      // Left while the browser was still asking for the devices.
      for (const track of [this.microphone, this.camera]) track?.stop();
      this.microphone = this.camera = null;
      return;
    }
    this.muted = false;
    this.table = table;
    this.#requestSeat();
    this.dispatchEvent(new CustomEvent("local"));
  }

  /**
   * The socket came back (or the server dropped our seat): the old connection's peers are
   * gone; sit at the same table again, replacing the old seat, and offer again.
   */
  rejoin() {
    if (!["joining", "in", "rejoining"].includes(this.state)) return;
    this.#dropAll("reset");
    this.#setState("rejoining");
    this.#requestSeat();
  }

  /** Ask for the seat again after a refusal worth retrying; `table` null starts a new one. */
  retry(table = this.table) {
    if (this.state === "idle") return;
    this.table = table;
    this.#requestSeat();
  }

  leave() {
    if (this.state === "idle") return;
    this.send({ type: "call.leave" });
    this.end();
  }

  /** Stop everything on this side without telling the server (it refused us, or we left). */
  end() {
    if (this.state === "idle") return;
    clearInterval(this.renewTimer);
    this.#dropAll("reset");
    for (const track of [this.microphone, this.camera, this.screen]) track?.stop();
    this.microphone = this.camera = this.screen = null;
    this.self = null;
    this.#setState("idle");
  }

  setMuted(muted) {
    this.muted = muted;
    // A disabled track sends silence; the connection and its negotiation stay as they are.
    if (this.microphone) this.microphone.enabled = !muted;
    this.#announce();
  }

  async setCamera(on) {
    if (on && !this.camera) {
      const stream = await navigator.mediaDevices.getUserMedia({ video: true });
      this.camera = stream.getVideoTracks()[0];
    } else if (!on && this.camera) {
      this.camera.stop(); // turns the camera's light off too
      this.camera = null;
    }
    await this.#sendVideo();
    this.#announce();
  }

  async shareScreen() {
    if (this.screen) return;
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    this.screen = stream.getVideoTracks()[0];
    // The browser's own "Stop sharing" bar ends the track without asking us.
    this.screen.addEventListener("ended", () => this.stopSharing());
    await this.#sendVideo();
    this.#announce();
  }

  async stopSharing() {
    if (!this.screen) return;
    this.screen.stop();
    this.screen = null;
    await this.#sendVideo(); // back to the camera, or to nothing
    this.#announce();
  }

  // Frames from the server ----------------------------------------------------------------

  /** `call.joined`: we sit at `frame.table`; offer to everyone already there. */
  joined(frame) {
    if (this.state !== "joining" && this.state !== "rejoining") return;
    this.table = frame.table;
    this.self = frame.peer;
    this.iceServers = frame.ice_servers || [];
    // TURN credentials expire: a peer who sits down an hour later is reached with new ones.
    clearInterval(this.renewTimer);
    if (frame.ice_refresh) {
      this.renewTimer = setInterval(() => this.send({ type: "call.credentials" }), frame.ice_refresh * 1000);
    }
    this.#setState("in");
    this.#announce(); // the join said audio/video; a mute kept over a reconnection did not
    for (const info of frame.peers) {
      const peer = this.#addPeer(info);
      this.#guard(peer, () => this.#offerTo(peer));
    }
  }

  /** `call.credentials`: the connections made from now on use them. */
  credentials(frame) {
    if (this.state === "in") this.iceServers = frame.ice_servers || [];
  }

  /** `call.peer_joined`: the newcomer will offer; be ready to answer. */
  peerJoined(frame) {
    if (this.state !== "in" || this.peers.has(frame.peer)) return;
    this.#addPeer(frame);
  }

  peerLeft(frame) {
    const peer = this.peers.get(frame.peer);
    if (peer) this.#drop(peer, "left");
  }

  peerMedia(frame) {
    const peer = this.peers.get(frame.peer);
    if (!peer) return;
    Object.assign(peer, { audio: frame.audio, video: frame.video, screen: frame.screen });
    this.#changed(peer);
  }

  offer(frame) {
    const peer = this.peers.get(frame.from);
    if (peer) this.#guard(peer, () => this.#answerOffer(peer, frame.sdp));
  }

  answer(frame) {
    const peer = this.peers.get(frame.from);
    if (!peer) return;
    this.#guard(peer, async () => {
      await peer.connection.setRemoteDescription({ type: "answer", sdp: frame.sdp });
      await this.#addQueuedCandidates(peer);
    });
  }

  ice(frame) {
    const peer = this.peers.get(frame.from);
    // null is "no more candidates", which Chromium and Firefox work out by themselves.
    if (!peer || !frame.candidate) return;
    // Candidates can overtake the description they belong to: keep them until it is set.
    if (!peer.connection.remoteDescription) {
      peer.queued.push(frame.candidate);
      return;
    }
    this.#addCandidate(peer, frame.candidate);
  }

  // Inside ---------------------------------------------------------------------------------

  async #answerOffer(peer, sdp) {
    const { connection } = peer;
    await connection.setRemoteDescription({ type: "offer", sdp });
    // The offer made the transceivers; put our tracks on them and send as well as receive.
    for (const transceiver of connection.getTransceivers()) {
      const kind = transceiver.receiver.track.kind;
      transceiver.direction = "sendrecv";
      await transceiver.sender.replaceTrack(kind === "audio" ? this.microphone : this.outgoingVideo);
    }
    await this.#addQueuedCandidates(peer);
    await connection.setLocalDescription(await connection.createAnswer());
    this.send({ type: "call.answer", to: peer.id, sdp: connection.localDescription.sdp });
  }

  /** Runs one step of a peer's negotiation; a step that fails loses that peer, not the call. */
  #guard(peer, step) {
    step().catch(() => this.#drop(peer, "dropped"));
  }

  #setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state } }));
  }

  #requestSeat() {
    // Coming back after a blip, our old connection may still hold the seat: take it over.
    const replace = this.state === "rejoining";
    if (!replace) this.#setState("joining");
    const { audio, video } = this.media;
    this.send({ type: "call.join", table: this.table, audio, video, replace });
  }

  #announce() {
    if (this.state === "in") this.send({ type: "call.media", ...this.media });
    this.dispatchEvent(new CustomEvent("local"));
  }

  #changed(peer) {
    this.dispatchEvent(new CustomEvent("peer", { detail: peer }));
  }

  #addPeer(info) {
    const connection = new RTCPeerConnection({ iceServers: this.iceServers });
    const peer = {
      id: info.peer,
      user: info.user || { id: 0, name: "" },
      audio: Boolean(info.audio),
      video: Boolean(info.video),
      screen: Boolean(info.screen),
      connection,
      state: connection.connectionState,
      stream: new MediaStream(), // what we receive from them; replaced when a track arrives
      queued: [],
      dropTimer: null,
    };
    this.peers.set(peer.id, peer);
    connection.addEventListener("track", ({ track }) => {
      // A new stream object, so the page knows to hand it to the element again.
      peer.stream = new MediaStream([...peer.stream.getTracks(), track]);
      this.#changed(peer);
    });
    connection.addEventListener("icecandidate", ({ candidate }) => {
      this.send({ type: "call.ice", to: peer.id, candidate: candidate ? candidate.toJSON() : null });
    });
    connection.addEventListener("connectionstatechange", () => this.#onConnectionState(peer));
    this.#changed(peer);
    return peer;
  }

  async #offerTo(peer) {
    const { connection } = peer;
    connection.addTransceiver(this.microphone || "audio", { direction: "sendrecv" });
    connection.addTransceiver(this.outgoingVideo || "video", { direction: "sendrecv" });
    await connection.setLocalDescription(await connection.createOffer());
    this.send({ type: "call.offer", to: peer.id, sdp: connection.localDescription.sdp });
  }

  async #addQueuedCandidates(peer) {
    const queued = peer.queued.splice(0);
    for (const candidate of queued) await this.#addCandidate(peer, candidate);
  }

  async #addCandidate(peer, candidate) {
    try {
      await peer.connection.addIceCandidate(candidate);
    } catch {
      // A candidate the browser cannot use (another network, a stale one) is not an error:
      // the others still get through.
    }
  }

  async #sendVideo() {
    const track = this.outgoingVideo;
    const senders = [...this.peers.values()].map((peer) =>
      peer.connection.getTransceivers().find((each) => each.receiver.track.kind === "video")?.sender,
    );
    // A connection that closes meanwhile refuses the track; it is on its way out anyway.
    await Promise.all(senders.map((sender) => sender?.replaceTrack(track).catch(() => {})));
  }

  #onConnectionState(peer) {
    const state = peer.connection.connectionState;
    peer.state = state;
    clearTimeout(peer.dropTimer);
    if (state === "failed" || state === "closed") {
      this.#drop(peer, "dropped");
      return;
    }
    if (state === "disconnected") {
      // Often a moment's loss that ICE repairs by itself; give it a few seconds.
      peer.dropTimer = setTimeout(() => this.#drop(peer, "dropped"), DROP_AFTER_MS);
    }
    this.#changed(peer);
  }

  #drop(peer, reason) {
    if (this.peers.get(peer.id) !== peer) return;
    clearTimeout(peer.dropTimer);
    this.peers.delete(peer.id);
    peer.connection.close();
    this.dispatchEvent(new CustomEvent("peerleave", { detail: { peer, reason } }));
  }

  #dropAll(reason) {
    for (const peer of [...this.peers.values()]) this.#drop(peer, reason);
  }
}
