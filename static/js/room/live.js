// What every part of the room page shares: the page's root, who I am, the socket, and
// whether the live side has ended (someone sent this page away).

import { RoomSocket } from "./socket.js";

export const root = document.getElementById("room");
export const isCafeteria = root.dataset.roomKind === "cafeteria";
const status = document.getElementById("chat-status");

export const live = {
  // The page knows my id; `hello` confirms it and says whether I am staff.
  me: { id: Number(root.dataset.youId), name: root.dataset.you || "", staff: false, deletes: false },
  ended: false,
};

// The stage page uses the room's frames on a socket of its own (docs/websocket-protocol.md).
// The first `hello`'s history gives the messages the page was drawn with their reactions.
// After that the page catches up by itself after every `hello` (chat.js), so a reconnection
// asks for one without history: the latest 50 would only come again.
const socketPath = root.dataset.socketPath || `/ws/rooms/${root.dataset.roomSlug}/`;
export const socket = new RoomSocket(socketPath, { again: `${socketPath}?catch_up=1` });

// The page's general status line, under the chat; `action`, a control after the message.
export function say(message, action = null) {
  status.replaceChildren(...(action ? [message, " ", action] : [message]));
}

export function send(frame) {
  if (socket.send(frame)) return true;
  say(gettext("Not connected: try again in a moment."));
  return false;
}
