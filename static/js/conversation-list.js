// The conversations list, live: the member socket (me.js) says a message came, was read,
// changed or went, and the first page fetches its list again from the server, which
// orders it, counts what is unread and applies blocks as the page itself did. A message
// from someone else is said once in a polite status line (typing is never said).

import { refresher } from "./fragment.js";
import { inbox } from "./me.js";

const MAX_JITTER_MS = 300; // a burst of frames (a catch-up, a busy group) costs one fetch
const container = document.getElementById("conversation-list");
const status = document.getElementById("conversation-list-status");
const myId = Number(document.body.dataset.youId);
const REFRESHED_BY = new Set(["message.new", "message.edited", "message.deleted", "conversation.changed"]);
let welcomed = false;

// Whoever was on a conversation's link stays on it, wherever it moved to.
const refreshSoon = container?.dataset.refreshUrl && refresher(container, container.dataset.refreshUrl, {
  jitter: MAX_JITTER_MS,
  beforeReplace: () => document.activeElement?.closest("[data-conversation-id]")?.dataset.conversationId,
  onReplace: (focused) => {
    if (focused) container.querySelector(`[data-conversation-id="${focused}"] a`)?.focus();
  },
});

function announce(message) {
  if (!message.author || message.author.id === myId) return;
  // A conversation the member muted is not said either (the list still shows it unread).
  if (container.querySelector(`[data-conversation-id="${message.conversation}"][data-muted]`)) return;
  status.textContent = interpolate(gettext("New message from %(name)s."), { name: message.author.name }, true);
}

if (container?.dataset.refreshUrl) {
  inbox.addEventListener("frame", (event) => {
    const frame = event.detail;
    if (frame.type === "hello") {
      // Back after a dropped connection: whatever came meanwhile.
      if (welcomed) refreshSoon();
      welcomed = true;
    } else if (REFRESHED_BY.has(frame.type) || (frame.type === "read" && frame.member === myId)) {
      if (frame.type === "message.new") announce(frame.message);
      refreshSoon();
    }
  });
}
