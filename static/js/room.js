// A room's live side (docs/websocket-protocol.md, v1): presence, chat, moderation, calls,
// reconnection. This entry wires the modules in static/js/room/ (docs/architecture.md,
// "Front-end modules") to the socket. Their strings come from Django's JavaScript catalogue,
// whose `gettext` the page loads before this module.

import { callConnected, callDropped, callEnded, callHandlers, drawTables, isCallError, onCallError, setUpCall } from "./room/call-ui.js";
import {
  chatConnected, chatDropped, chatEnded, chatError, chatHandlers, chatRefused, historyError, setMuted, setUpChat,
} from "./room/chat.js";
import { setTime } from "./room/dom.js";
import { live, root, say, socket } from "./room/live.js";
import { moderationHandlers } from "./room/moderation.js";
import { presenceConnected, presenceEnded, replacePresence, setUpPresence, updatePresence } from "./room/presence.js";
import { KICK_CODES } from "./room/socket.js";

const PROTOCOL_VERSION = 1;
let farewell = null; // the `bye` frame, read when the close that follows it arrives
let leavingPage = false;
addEventListener("beforeunload", () => {
  leavingPage = true;
});

const handlers = {
  hello(frame) {
    if (frame.v !== PROTOCOL_VERSION) {
      say(gettext("This page is out of date. Please reload it."));
      socket.close();
      return;
    }
    socket.welcomed();
    say(gettext("Connected."));
    live.me.id = frame.you.id;
    live.me.staff = Boolean(frame.you.staff);
    presenceConnected(frame.you.status);
    setMuted(frame.you.muted_until);
    replacePresence(frame.presence);
    callConnected();
    chatConnected(frame.history);
  },
  "presence.snapshot": (frame) => {
    replacePresence(frame.members);
    drawTables();
  },
  "presence.update": (frame) => {
    updatePresence(frame);
    drawTables();
  },
  ...chatHandlers,
  ...moderationHandlers,
  ...callHandlers,
  bye: (frame) => {
    farewell = frame;
  },
  // An invitation from the server, e.g. the event held here ended: carry on elsewhere.
  "room.notice": (frame) => {
    const notice = document.getElementById("room-notice");
    notice.querySelector(".room-notice-text").textContent = frame.message;
    notice.querySelector(".room-notice-link").href = frame.url;
    notice.hidden = false;
  },
  error: (frame) => {
    if (isCallError(frame)) {
      onCallError(frame);
      return;
    }
    if (frame.client_id && chatError(frame)) return;
    if (historyError(frame)) return;
    chatRefused();
    say(frame.message);
  },
};

// Sent away (removed, logged out, account closed): the page stays readable, nothing live.
function endLive(code) {
  live.ended = true;
  say(farewell?.message || gettext("You are no longer connected to this room."));
  chatEnded();
  presenceEnded();
  callEnded();
  // Logged out: the page itself now leads to the login page (unless this page is already
  // going somewhere, e.g. it is the one that logged out: a reload would cancel that).
  if (code === KICK_CODES.loggedOut || code === KICK_CODES.passwordChanged) {
    setTimeout(() => {
      if (!leavingPage) location.reload();
    }, 1500);
  }
}

socket.addEventListener("frame", (event) => handlers[event.detail.type]?.(event.detail));
socket.addEventListener("drop", () => {
  say(gettext("Connection lost. Reconnecting…"));
  callDropped();
  chatDropped();
});
socket.addEventListener("kick", (event) => endLive(event.detail.code));

setUpCall();
setUpPresence();
// Server-rendered times are in the member's profile time zone; show the browser's, like
// live ones.
for (const node of root.querySelectorAll("time[datetime]")) setTime(node, node.dateTime);
setUpChat();
socket.connect();
