// What every page with a room socket shares (the room page, the stage page): presence,
// chat, moderation, the `hello` handshake, being sent away, reconnection. A page adds its
// own part through `startRoomPage`'s hooks: its frames, and what it does when the socket
// connects, drops or ends. Strings come from Django's JavaScript catalogue.

import {
  chatConnected, chatDropped, chatEnded, chatError, chatHandlers, chatRefused, historyError, setMuted, setUpChat,
} from "./chat.js";
import { reloadButton, setSince, setTime } from "./dom.js";
import { live, root, say, socket } from "./live.js";
import { moderationHandlers, mutedHere } from "./moderation.js";
import { presenceConnected, presenceEnded, replacePresence, setUpPresence, updatePresence } from "./presence.js";
import { KICK_CODES, reloadSoon } from "./socket.js";

const PROTOCOL_VERSION = 1;

/**
 * part: {
 *   handlers: {type: frame => void}   the page's own frames
 *   setUp()                           before the socket connects
 *   connected(), dropped(), ended()   the socket's life
 *   presenceChanged()                 after the presence list changed
 *   error(frame) -> bool              an error frame about the page's own part (handled)
 * }
 */
export function startRoomPage(part) {
  let farewell = null; // the `bye` frame, read when the close that follows it arrives

  const handlers = {
    hello(frame) {
      if (frame.v !== PROTOCOL_VERSION) {
        say(gettext("This page is out of date. Please reload it."), reloadButton());
        socket.stop();
        return;
      }
      socket.welcomed();
      say(gettext("Connected."));
      live.me.id = frame.you.id;
      live.me.staff = Boolean(frame.you.staff);
      live.me.deletes = Boolean(frame.you.deletes);
      if (live.me.staff) mutedHere(frame.you.muted_here);
      presenceConnected(frame.you.status);
      setMuted(frame.you.muted_until);
      replacePresence(frame.presence);
      part.connected?.();
      chatConnected(frame.history, frame.now);
    },
    "presence.update": (frame) => {
      updatePresence(frame);
      part.presenceChanged?.();
    },
    ...chatHandlers,
    ...moderationHandlers,
    ...part.handlers,
    bye: (frame) => {
      farewell = frame;
    },
    // An invitation from the server, e.g. the event held here ended: carry on elsewhere.
    "room.notice": (frame) => {
      const notice = document.getElementById("room-notice");
      if (!notice) return;
      notice.querySelector(".room-notice-text").textContent = frame.message;
      notice.querySelector(".room-notice-link").href = frame.url;
      notice.hidden = false;
    },
    error: (frame) => {
      if (part.error?.(frame)) return;
      if (frame.client_id && chatError(frame)) return;
      if (historyError(frame)) return;
      chatRefused();
      say(frame.message);
    },
  };

  // Sent away (removed, logged out, account closed): the page stays readable, nothing live.
  function endLive(code) {
    live.ended = true;
    const goodbye = farewell?.message || gettext("You are no longer connected to this room.");
    say(goodbye);
    chatEnded();
    presenceEnded();
    // Said at the top too, with the way on (the cafeteria), unless a notice already leads on.
    const notice = document.getElementById("room-notice");
    if (notice?.hidden) {
      notice.querySelector(".room-notice-text").textContent = goodbye;
      notice.hidden = false;
    }
    part.ended?.();
    // Logged out: the page itself now leads to the login page (unless this page is already
    // going somewhere, e.g. it is the one that logged out: a reload would cancel that).
    if (code === KICK_CODES.loggedOut || code === KICK_CODES.passwordChanged) reloadSoon();
  }

  socket.addEventListener("frame", (event) => handlers[event.detail.type]?.(event.detail));
  socket.addEventListener("drop", () => {
    // A goodbye before the drop says why (too many tabs open); the socket tries again.
    say(farewell?.message || gettext("Connection lost. Reconnecting…"));
    farewell = null;
    part.dropped?.();
    chatDropped();
  });
  socket.addEventListener("kick", (event) => endLive(event.detail.code));

  part.setUp?.();
  setUpPresence();
  // Server-rendered times get the same text and full-date title as the live ones.
  for (const node of root.querySelectorAll("time[datetime]")) {
    (node.closest(".presence-since") ? setSince : setTime)(node, node.dateTime);
  }
  setUpChat();
  socket.connect();
}
