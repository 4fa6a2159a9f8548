// The page's side of Janus's HTTP API (docs/stage.md): a session opened with the token the
// site gave this page, handles on the VideoRoom plugin, and the session's events read with
// a long poll. The token opens a session and nothing more: the site joins a handle to the
// stage's room (over the stage socket) before the page can send or receive media on it.
//
// Events of a JanusSession (CustomEvent):
//   "lost"  []  the session is gone (Janus restarted or unreachable): open a new one
// Events of a Handle: "event" [the plugin's data, jsep], "webrtcup", "hangup".

const KEEPALIVE_MS = 25_000;
const REQUEST_TIMEOUT_MS = 8_000;

function transaction() {
  return Math.random().toString(36).slice(2, 12);
}

export class JanusError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

export class Handle extends EventTarget {
  constructor(session, id) {
    super();
    this.session = session;
    this.id = id;
  }

  message(body, jsep) {
    const request = { janus: "message", body };
    if (jsep) request.jsep = jsep;
    return this.session.post(`/${this.session.id}/${this.id}`, request);
  }

  trickle(candidate) {
    const request = candidate ? { janus: "trickle", candidate } : { janus: "trickle", candidate: { completed: true } };
    return this.session.post(`/${this.session.id}/${this.id}`, request).catch(() => {});
  }

  // Whoever waits on this handle's next event (nextEvent) stops waiting: the page gave it up.
  cancel() {
    this.dispatchEvent(new CustomEvent("event", { detail: { data: { error_code: -1, error: "cancelled" } } }));
  }

  async detach() {
    this.cancel();
    this.session.handles.delete(this.id);
    try {
      await this.session.post(`/${this.session.id}/${this.id}`, { janus: "detach" });
    } catch {
      // Gone with its session already.
    }
  }
}

export class JanusSession extends EventTarget {
  #keepalive = null;
  #closed = false;

  constructor(url, token) {
    super();
    this.url = url.replace(/\/$/, "");
    this.token = token;
    this.id = null;
    this.handles = new Map();
  }

  async post(path, request) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(this.url + path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ ...request, transaction: transaction(), token: this.token }),
        signal: controller.signal,
      });
      const answer = await response.json();
      if (answer.janus === "error") throw new JanusError(answer.error?.reason || "error", answer.error?.code);
      return answer;
    } finally {
      clearTimeout(timer);
    }
  }

  async open() {
    const answer = await this.post("", { janus: "create" });
    this.id = answer.data.id;
    this.#poll();
    this.#keepalive = setInterval(() => {
      this.post(`/${this.id}`, { janus: "keepalive" }).catch(() => this.#lose());
    }, KEEPALIVE_MS);
    return this;
  }

  async attach() {
    const answer = await this.post(`/${this.id}`, { janus: "attach", plugin: "janus.plugin.videoroom" });
    const handle = new Handle(this, answer.data.id);
    this.handles.set(handle.id, handle);
    return handle;
  }

  async #poll() {
    while (!this.#closed) {
      let events;
      try {
        const query = new URLSearchParams({ maxev: "10", token: this.token, rid: String(Date.now()) });
        const response = await fetch(`${this.url}/${this.id}?${query}`);
        events = await response.json();
      } catch {
        this.#lose();
        return;
      }
      for (const event of Array.isArray(events) ? events : [events]) {
        if (event.janus === "error" && !this.#closed) {
          this.#lose(); // the session is gone (Janus restarted, or the site ended it)
          return;
        }
        const handle = this.handles.get(event.sender);
        if (!handle) continue;
        if (event.janus === "event") {
          handle.dispatchEvent(new CustomEvent("event", { detail: { data: event.plugindata?.data || {}, jsep: event.jsep } }));
        } else if (event.janus === "webrtcup" || event.janus === "hangup") {
          handle.dispatchEvent(new CustomEvent(event.janus, { detail: event }));
        }
      }
    }
  }

  #lose() {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepalive);
    this.dispatchEvent(new CustomEvent("lost"));
  }

  async destroy() {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepalive);
    try {
      await this.post(`/${this.id}`, { janus: "destroy" });
    } catch {
      // Already gone.
    }
  }
}

// The next "event" on `handle` that satisfies `test`, or a JanusError for an error event.
export function nextEvent(handle, test, timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      handle.removeEventListener("event", listener);
      reject(new JanusError("timeout"));
    }, timeoutMs);
    function listener(event) {
      const { data } = event.detail;
      if (data.error_code) {
        clearTimeout(timer);
        handle.removeEventListener("event", listener);
        reject(new JanusError(data.error, data.error_code));
      } else if (test(event.detail)) {
        clearTimeout(timer);
        handle.removeEventListener("event", listener);
        resolve(event.detail);
      }
    }
    handle.addEventListener("event", listener);
  });
}
