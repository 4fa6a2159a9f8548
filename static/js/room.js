// A room's live side (docs/websocket-protocol.md, v1): presence, chat, reconnection.
// Everything from the server is shown with textContent, never parsed as HTML.

const PROTOCOL_VERSION = 1;
const PING_EVERY_MS = 20_000;
const MAX_BACKOFF_MS = 30_000;

const root = document.getElementById("room");
const presenceList = document.getElementById("presence");
const log = document.getElementById("messages");
const form = document.getElementById("chat-form");
const textarea = document.getElementById("chat-text");
const status = document.getElementById("chat-status");
const text = root.dataset;

const rendered = new Set(
  [...log.querySelectorAll("li[data-id]")].map((item) => Number(item.dataset.id)),
);
const pending = new Map(); // client_id -> {text, item}
let lastId = Math.max(0, ...rendered);
let socket = null;
let pingTimer = null;
let backoff = 1000;

function say(message) {
  status.textContent = message;
}

function messageItem(authorName, body, deleted) {
  const item = document.createElement("li");
  const author = document.createElement("span");
  author.className = "message-author";
  author.textContent = authorName;
  const content = document.createElement("span");
  content.className = deleted ? "message-text muted" : "message-text";
  content.textContent = deleted ? text.textDeleted : body;
  item.append(author, " ", content);
  return item;
}

function scrollToEnd() {
  log.scrollTop = log.scrollHeight;
}

function addMessage(message) {
  if (rendered.has(message.id)) return;
  rendered.add(message.id);
  lastId = Math.max(lastId, message.id);
  const author = message.author ? message.author.name : text.textFormerMember;
  const item = messageItem(author, message.text, message.deleted);
  item.dataset.id = message.id;
  log.append(item);
  scrollToEnd();
}

function renderPresence(members) {
  presenceList.replaceChildren(
    ...members.map((member) => {
      const item = document.createElement("li");
      item.textContent = member.name;
      return item;
    }),
  );
}

function send(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

function sendChat(clientId, body) {
  send({ type: "chat.send", client_id: clientId, text: body });
}

function onAck(frame) {
  const entry = pending.get(frame.client_id);
  if (!entry) return;
  pending.delete(frame.client_id);
  entry.item.querySelector(".message-state").textContent = text.textDelivered;
  if (rendered.has(frame.id)) {
    entry.item.remove(); // Already shown through history after a reconnection.
    return;
  }
  entry.item.dataset.id = frame.id;
  rendered.add(frame.id);
  lastId = Math.max(lastId, frame.id);
}

const handlers = {
  hello(frame) {
    if (frame.v !== PROTOCOL_VERSION) {
      say(text.textReload);
      socket.close();
      return;
    }
    backoff = 1000;
    say(text.textConnected);
    renderPresence(frame.presence);
    const catchUpFrom = lastId;
    frame.history.forEach(addMessage);
    send({ type: "history.since", after_id: catchUpFrom });
    // Resend what never got its ack; the server stores each client_id once.
    for (const [clientId, entry] of pending) sendChat(clientId, entry.text);
  },
  "presence.snapshot": (frame) => renderPresence(frame.members),
  "chat.message": (frame) => addMessage(frame.message),
  "chat.ack": onAck,
  "history.page": (frame) => {
    frame.messages.forEach(addMessage);
    if (frame.has_more) send({ type: "history.since", after_id: lastId });
  },
  error: (frame) => say(frame.message),
};

// A refused handshake looks like a network failure; the page over HTTP says why
// (logged out, no longer allowed, room gone), so reload it when it would.
async function explainRefusal() {
  try {
    const response = await fetch(location.href, { credentials: "same-origin" });
    if (!response.ok || response.redirected) location.reload();
  } catch {
    // Still offline: keep retrying.
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/rooms/${root.dataset.roomSlug}/`);
  let opened = false;
  socket.addEventListener("open", () => {
    opened = true;
    pingTimer = setInterval(() => send({ type: "ping" }), PING_EVERY_MS);
  });
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    handlers[frame.type]?.(frame);
  });
  socket.addEventListener("close", () => {
    clearInterval(pingTimer);
    say(text.textReconnecting);
    if (!opened) explainRefusal();
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  });
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const body = textarea.value.trim();
  if (!body) return;
  const clientId = crypto.randomUUID();
  const item = messageItem(root.dataset.you || "", body, false);
  const state = document.createElement("span");
  state.className = "message-state";
  state.textContent = text.textSending;
  item.append(" ", state);
  log.append(item);
  scrollToEnd();
  pending.set(clientId, { text: body, item });
  sendChat(clientId, body);
  textarea.value = "";
});

textarea.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

connect();
