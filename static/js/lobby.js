// The lobby's room list, live: the lobby socket (docs/websocket-protocol.md, "The lobby
// socket") only says that something changed; the list itself comes from the server-rendered
// partial, which applies the viewer's access rules and blocks.

import { refresher } from "./fragment.js";
import { TOO_MANY_SOCKETS, reloadSoon } from "./room/socket.js";

const FALLBACK_EVERY_MS = 60_000; // while the socket is down
const MAX_JITTER_MS = 500; // spreads the fetches of many open lobbies
const MAX_BACKOFF_MS = 30_000;
// A connection open this long proved the way clear: the next drop starts from a short wait.
const GOOD_AFTER_MS = 10_000;
const list = document.getElementById("room-list");
let backoff = 1000;
let fallback = null;

// A refresh replaces every card: the room link that had the keyboard's focus gets it back.
const refreshSoon = refresher(list, list.dataset.refreshUrl, {
  jitter: MAX_JITTER_MS,
  beforeReplace: () => document.activeElement?.closest("[data-room]")?.dataset.room,
  onReplace: (focused) => {
    if (focused) list.querySelector(`[data-room="${CSS.escape(focused)}"] a`)?.focus();
  },
});

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/rooms/`);
  let openedAt = 0;
  socket.addEventListener("open", () => {
    openedAt = Date.now();
    clearInterval(fallback);
    fallback = null;
    refreshSoon(); // whatever changed while we were away
  });
  socket.addEventListener("message", (event) => {
    if (JSON.parse(event.data).type === "lobby.changed") refreshSoon();
  });
  socket.addEventListener("close", (event) => {
    // 4000-4099: the server ended it on purpose (logged out, account closed): reload, which
    // leads to the login page, unless this page is already going somewhere (it may be the
    // one that logged out, and a reload would cancel that navigation).
    if (event.code >= 4000 && event.code < 4100) {
      reloadSoon();
      return;
    }
    fallback ??= setInterval(refreshSoon, FALLBACK_EVERY_MS);
    if (event.code === TOO_MANY_SOCKETS) backoff = MAX_BACKOFF_MS;
    else if (openedAt && Date.now() - openedAt > GOOD_AFTER_MS) backoff = 1000;
    // Between half and all of the step, as the room sockets do: lobbies dropped together (a
    // server restart) do not all come back in the same instant.
    setTimeout(connect, backoff / 2 + Math.random() * (backoff / 2));
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  });
}

if (list) connect();
