// The room's WebSocket (docs/websocket-protocol.md): one connection at a time, kept alive
// with pings, opened again after a drop with exponential backoff and jitter, so that pages
// dropped together (a server restart) do not all come back in the same instant.
//
// Events (CustomEvent, `detail` in brackets):
//   "frame" [frame]   a frame from the server, parsed
//   "drop"  []        the connection was lost; a new one is on its way
//   "kick"  [{code}]  the server sent this page away on purpose: no new connection follows

const PING_EVERY_MS = 20_000;
// The server answers every ping: one unanswered this long, the connection is dead. Counted
// from the ping, not from the last frame: a hidden tab's timers may wake once a minute.
const UNANSWERED_MS = 35_000;
// A ping sent because the page came back into view or the device back online: an answer
// (any frame) is awaited this long only, since a member looking at "Connected." on a dead
// connection would otherwise wait out the full UNANSWERED_MS and the next ping (40 to 60
// s). Long enough for a slow mobile link, where the answer may queue behind a large frame.
const PROBE_MS = 8000;
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
// Close codes the server uses to send someone away on purpose: reconnecting would only be
// refused again.
export const KICK_CODES = { min: 4000, max: 4099, loggedOut: 4000, passwordChanged: 4004 };
// The member has too many sockets open (their `bye` says so): tried again, but not soon.
export const TOO_MANY_SOCKETS = 4429;

// Whether this page is on its way elsewhere (a link followed, the logout form sent): a reload
// would cancel that. Shown again from the back/forward cache, it is not.
let leavingPage = false;
addEventListener("beforeunload", () => {
  leavingPage = true;
});
addEventListener("pageshow", () => {
  leavingPage = false;
});

/** Reload the page in a moment (for a member sent away, it leads to the login page), unless
 * the page is being left, or the member has typed something here and this browser is still
 * signed in: a password changed in another tab of the same browser sends every tab's socket
 * away, and a reload would throw away a half-written message for nothing. */
export function reloadSoon() {
  setTimeout(async () => {
    if (leavingPage) return;
    if (unsentText() && (await stillSignedIn())) return;
    location.reload();
  }, 1500);
}

function unsentText() {
  return [...document.querySelectorAll("textarea, input[type=text], input:not([type])")].some(
    (field) => field.value.trim() && field.value !== field.defaultValue,
  );
}

async function stillSignedIn() {
  try {
    // Signed out, the page redirects to the login page.
    const response = await fetch(location.href, { credentials: "same-origin", redirect: "manual" });
    return response.ok;
  } catch {
    return false;
  }
}

// A refused handshake looks like a network failure; the page over HTTP says why (logged
// out, no longer allowed, room gone or full), so reload it when it would. A server failing
// (5xx) says nothing of the kind: reloading would leave the member on an error page that
// never tries again, so the socket keeps retrying instead.
const REFUSALS = new Set([401, 403, 404, 409, 410]);

// Asked once per outage (a connection that never opened, again and again, behind a network
// that refuses WebSockets, must not fetch the page every time), and only the answer's
// status is read: the page itself is not downloaded. Returns whether the server answered.
async function explainRefusal() {
  const controller = new AbortController();
  try {
    const response = await fetch(location.href, { credentials: "same-origin", signal: controller.signal });
    controller.abort();
    if (response.redirected || REFUSALS.has(response.status)) location.reload();
    // A failing server or proxy (a deploy under way) says nothing about this page: asked
    // again at the next failure.
    return response.status < 500;
  } catch {
    return false; // still offline: asked again at the next failure
  }
}

export class RoomSocket extends EventTarget {
  #path;
  #again; // the address of the connections after the server first took us in
  #welcomedOnce = false;
  #socket = null;
  #pingTimer = null;
  #backoff = FIRST_BACKOFF_MS;
  #stopped = false;
  #explained = false; // this outage's refused handshake was asked about
  #retryTimer = null;
  #probe = null; // pings the open connection, which is dropped if no answer comes in time

  /** `path` on this site, e.g. "/ws/rooms/cafeteria/"; `again`, the address to reconnect
   * to once a `hello` came, if it differs. */
  constructor(path, { again = path } = {}) {
    super();
    this.#path = path;
    this.#again = again;
    // A phone that lost its network, or a laptop that slept, often holds a connection that
    // looks open and is dead. Coming back into view or online, check it at once; back
    // online with no connection, retry now rather than after the backoff's wait. Offline,
    // say so now rather than after the next unanswered ping.
    addEventListener("online", () => this.#checkNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.#checkNow();
    });
    addEventListener("offline", () => this.#probe?.(0));
  }

  #checkNow() {
    if (this.#stopped) return;
    if (this.#probe) {
      this.#probe(PROBE_MS);
    } else if (this.#retryTimer !== null) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
      this.#backoff = FIRST_BACKOFF_MS;
      this.connect();
    }
  }

  get isOpen() {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  connect() {
    this.#retryTimer = null;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const path = this.#welcomedOnce ? this.#again : this.#path;
    const socket = new WebSocket(`${scheme}://${location.host}${path}`);
    this.#socket = socket;
    let opened = false;
    let abandoned = false;
    let unansweredSince = null; // the first ping sent since the last frame heard
    let heardAt = 0; // when the last frame came
    let probeTimer = null;
    // Dead without a word (a phone that changed networks, a laptop that slept): it still
    // looks open, and could for minutes. Left behind, and a new one opened.
    const abandon = () => {
      abandoned = true;
      clearInterval(this.#pingTimer);
      clearTimeout(probeTimer);
      this.#probe = null;
      if (this.#socket === socket) this.#socket = null; // nothing more is sent into it
      socket.close();
      this.#dropped(1006, true);
    };
    socket.addEventListener("open", () => {
      opened = true;
      this.#probe = (wait) => {
        if (wait === 0) return abandon();
        const askedAt = Date.now();
        unansweredSince ??= askedAt;
        this.send({ type: "ping" });
        clearTimeout(probeTimer);
        probeTimer = setTimeout(() => {
          if (heardAt < askedAt) abandon(); // nothing at all since the probe's ping
        }, wait);
      };
      this.#pingTimer = setInterval(() => {
        if (unansweredSince !== null && Date.now() - unansweredSince > UNANSWERED_MS) {
          abandon();
          return;
        }
        unansweredSince ??= Date.now();
        this.send({ type: "ping" });
      }, PING_EVERY_MS);
    });
    socket.addEventListener("message", (event) => {
      if (abandoned) return;
      unansweredSince = null;
      heardAt = Date.now();
      this.#emit("frame", JSON.parse(event.data));
    });
    socket.addEventListener("close", (event) => {
      if (abandoned) return;
      clearInterval(this.#pingTimer);
      clearTimeout(probeTimer);
      this.#probe = null;
      this.#dropped(event.code, opened);
    });
  }

  #dropped(code, opened) {
    if (this.#stopped) return;
    if (code >= KICK_CODES.min && code <= KICK_CODES.max) {
      this.#emit("kick", { code });
      return;
    }
    this.#emit("drop");
    if (code === TOO_MANY_SOCKETS) {
      this.#backoff = MAX_BACKOFF_MS;
    } else if (!opened && !this.#explained) {
      this.#explained = true;
      explainRefusal().then((answered) => {
        if (!answered) this.#explained = false;
      });
    }
    // Between half and all of the current step ("equal jitter"): spread out, never instant.
    const delay = this.#backoff / 2 + Math.random() * (this.#backoff / 2);
    this.#retryTimer = setTimeout(() => this.connect(), delay);
    this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF_MS);
  }

  /** Puts a frame on the socket and says whether it could. */
  send(frame) {
    if (!this.isOpen) return false;
    this.#socket.send(JSON.stringify(frame));
    return true;
  }

  /** The server took us in (its `hello`): the next drop starts again from a short wait. */
  welcomed() {
    this.#welcomedOnce = true;
    this.#backoff = FIRST_BACKOFF_MS;
    this.#explained = false;
  }

  close() {
    this.#socket?.close();
  }

  /** Closes for good: no new connection follows, nor a word of a drop (the page said why). */
  stop() {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#socket?.close();
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
