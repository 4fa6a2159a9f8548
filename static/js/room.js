// A room's live side (docs/websocket-protocol.md, v1): presence, chat, moderation, reconnection.
// Everything from the server is shown with textContent (links built as elements), never
// parsed as HTML.

const PROTOCOL_VERSION = 1;
const PING_EVERY_MS = 20_000;
const MAX_BACKOFF_MS = 30_000;
const PAGE_SIZE = 50;
const MUTE_MINUTES = 15;
// Close codes the server uses to send someone away on purpose: reconnecting would only be
// refused again, so these end the page's live side.
const KICK_CODES = { min: 4000, max: 4099, loggedOut: 4000 };
const LINK_REL = "noopener noreferrer nofollow";
const URL_PATTERN = /https?:\/\/[^\s<>"]+/g;
// Punctuation that usually ends the sentence rather than the address.
const URL_TRAILING = /[.,;:!?'")\]]+$/;

const root = document.getElementById("room");
const presenceList = document.getElementById("presence");
const statusSelect = document.getElementById("my-status");
const moderationStatus = document.getElementById("moderation-status");
const scroller = document.getElementById("messages-scroll");
const log = document.getElementById("messages");
const olderButton = document.getElementById("load-older");
const form = document.getElementById("chat-form");
const textarea = document.getElementById("chat-text");
const sendButton = form.querySelector("button[type=submit]");
const mutedNote = document.getElementById("chat-muted");
const status = document.getElementById("chat-status");
const text = root.dataset;
const lang = document.documentElement.lang || undefined;
const clock = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const fullDate = new Intl.DateTimeFormat(lang, { dateStyle: "full", timeStyle: "short" });

const rendered = new Set(
  [...log.querySelectorAll("li[data-id]")].map((item) => Number(item.dataset.id)),
);
const pending = new Map(); // client_id -> {text, item}
const names = new Map(); // user id -> name, for moderation feedback after someone left
// history.page does not say what it answers; the server handles one frame at a time per
// connection, so pages come back in the order they were asked for.
let pageRequests = [];
let lastId = Math.max(0, ...rendered);
let hasOlder = rendered.size >= PAGE_SIZE;
let loadingOlder = false;
let me = { id: Number(text.youId), staff: false };
let socket = null;
let pingTimer = null;
let muteTimer = null;
let backoff = 1000;
let farewell = null; // the `bye` frame, read when the close that follows it arrives
let ended = false;

// Helpers -------------------------------------------------------------------------------

function say(message) {
  status.textContent = message;
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_match, key) => values[key] ?? "");
}

function element(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined) node.textContent = content;
  return node;
}

function button(label, onClick, className = "button-small") {
  const node = element("button", className, label);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

function send(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify(frame));
    return true;
  }
  say(text.textNotConnected);
  return false;
}

function setTime(timeElement, iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return;
  timeElement.dateTime = iso;
  timeElement.textContent = clock.format(when);
  timeElement.title = fullDate.format(when);
}

function timeElement(iso) {
  const node = document.createElement("time");
  setTime(node, iso);
  return node;
}

// Plain text with http(s) addresses as links; nothing in it is ever read as markup.
function linkified(body) {
  const fragment = document.createDocumentFragment();
  let from = 0;
  for (const match of body.matchAll(URL_PATTERN)) {
    const url = match[0].replace(URL_TRAILING, "");
    fragment.append(body.slice(from, match.index));
    const link = element("a", "", url);
    link.href = url;
    link.rel = LINK_REL;
    fragment.append(link);
    from = match.index + url.length;
  }
  fragment.append(body.slice(from));
  return fragment;
}

// Messages ------------------------------------------------------------------------------

function itemFor(id) {
  return log.querySelector(`li[data-id="${id}"]`);
}

function nearBottom() {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
}

function scrollToEnd() {
  scroller.scrollTop = scroller.scrollHeight;
}

function messageItem(message) {
  const item = element("li");
  if (message.id) item.dataset.id = message.id;
  item.dataset.authorId = message.author ? message.author.id : "";
  const meta = element("p", "message-meta");
  const author = message.author ? message.author.name : text.textFormerMember;
  meta.append(element("span", "message-author", author), " ", timeElement(message.created_at));
  item.append(meta, element("p", "message-text"));
  updateMessage(item, message);
  return item;
}

// Brings an item in line with the server's view of the message: text, edit, deletion,
// mention. Used for new messages and to reconcile what changed while disconnected.
function updateMessage(item, message) {
  const body = item.querySelector(".message-text");
  const meta = item.querySelector(".message-meta");
  let edited = meta.querySelector(".message-edited");
  if (message.deleted) {
    item.dataset.deleted = "";
    body.className = "message-text muted";
    body.textContent = text.textDeleted;
    edited?.remove();
    item.classList.remove("mentions-me");
    item.querySelector(".mention-note")?.remove();
    item.querySelector(".message-actions")?.remove();
    item.querySelector(".message-editor")?.remove();
    editors.delete(Number(item.dataset.id));
    body.hidden = false;
    return;
  }
  body.replaceChildren(linkified(message.text));
  if (message.edited_at && !edited) {
    edited = element("span", "message-edited", text.textEdited);
    meta.append(" ", edited);
  }
  const mentioned = (message.mentions || []).includes(me.id);
  item.classList.toggle("mentions-me", mentioned);
  if (mentioned && !item.querySelector(".mention-note")) {
    meta.append(element("span", "mention-note visually-hidden", ` ${text.textMentionsYou}`));
  }
  addActions(item);
}

function placeMessage(item, id) {
  // Keep the log ordered by id whatever order pages arrive in.
  const later = [...log.querySelectorAll("li[data-id]")].find((other) => Number(other.dataset.id) > id);
  log.insertBefore(item, later || log.querySelector("li:not([data-id])"));
}

function addMessage(message) {
  if (rendered.has(message.id)) {
    const item = itemFor(message.id);
    if (item) updateMessage(item, message);
    return;
  }
  const stick = nearBottom();
  rendered.add(message.id);
  lastId = Math.max(lastId, message.id);
  placeMessage(messageItem(message), message.id);
  if (stick) scrollToEnd();
}

function addOlder(messages) {
  // Older pages would otherwise be read out in full by screen readers.
  log.setAttribute("aria-live", "off");
  const fromBottom = scroller.scrollHeight - scroller.scrollTop;
  for (const message of messages) {
    if (rendered.has(message.id)) continue;
    rendered.add(message.id);
    placeMessage(messageItem(message), message.id);
  }
  // Keep what the person was reading where it was.
  scroller.scrollTop = scroller.scrollHeight - fromBottom;
  requestAnimationFrame(() => log.setAttribute("aria-live", "polite"));
}

function oldestId() {
  const first = log.querySelector("li[data-id]");
  return first ? Number(first.dataset.id) : 0;
}

function loadOlder() {
  // Quietly: the observer also calls this before the socket is up.
  if (loadingOlder || !hasOlder || ended || socket?.readyState !== WebSocket.OPEN) return;
  const before = oldestId();
  if (!before) return;
  if (send({ type: "history.before", before_id: before })) {
    loadingOlder = true;
    pageRequests.push("before");
  }
}

function showOlderButton() {
  olderButton.parentElement.hidden = !hasOlder;
  olderButton.disabled = ended;
}

function requestSince(afterId) {
  if (send({ type: "history.since", after_id: afterId })) pageRequests.push("since");
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
  addActions(entry.item);
}

// Editing and deleting ------------------------------------------------------------------

function isMine(item) {
  return Number(item.dataset.authorId) === me.id;
}

function addActions(item) {
  if (ended || !item.dataset.id || "deleted" in item.dataset) return;
  if (item.querySelector(".message-actions")) return;
  const mine = isMine(item);
  if (!mine && !me.staff) return;
  const actions = element("p", "message-actions");
  if (mine) actions.append(button(text.textEdit, () => startEdit(item), "button-small edit"));
  actions.append(button(text.textDelete, () => confirmDelete(item), "button-small delete"));
  item.append(actions);
}

// Open editors by message id: how to close each one once the server confirms the edit.
const editors = new Map();

function startEdit(item) {
  const id = Number(item.dataset.id);
  if (editors.has(id)) return;
  const body = item.querySelector(".message-text");
  const editor = element("textarea", "message-editor");
  editor.value = body.textContent;
  editor.rows = 2;
  editor.maxLength = 2000;
  editor.setAttribute("aria-label", text.textEditLabel);
  editor.setAttribute("aria-describedby", "edit-help");
  body.hidden = true;
  body.after(editor);
  editor.focus();

  const close = () => {
    editors.delete(id);
    editor.remove();
    body.hidden = false;
    item.querySelector(".edit")?.focus();
  };
  editors.set(id, close);
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      const changed = editor.value.trim();
      if (!changed || editor.readOnly) return;
      // The editor stays open (read-only) until chat.edited or an error answers, so a
      // refused edit is not lost.
      if (send({ type: "chat.edit", id, text: changed })) editor.readOnly = true;
    }
  });
}

function onEdited(frame) {
  const item = itemFor(frame.message.id);
  if (!item) return;
  updateMessage(item, frame.message);
  const editor = item.querySelector(".message-editor");
  if (editor?.readOnly) editors.get(frame.message.id)?.();
}

function reopenEditors() {
  // Errors do not say which frame they answer: any edit waiting for an answer may retry.
  for (const editor of log.querySelectorAll(".message-editor")) editor.readOnly = false;
}

// A confirmation in place of the buttons, rather than window.confirm: it is part of the page,
// keyboard-reachable, translated and styled like the rest.
function confirmStep(container, question, yesLabel, onYes, returnFocusTo) {
  const step = element("span", "confirm-step");
  step.setAttribute("role", "group");
  step.setAttribute("aria-label", question);
  const restore = () => {
    step.remove();
    for (const child of container.children) child.hidden = false;
    returnFocusTo?.focus();
  };
  const no = button(text.textCancel, restore, "button-small button-ghost");
  const yes = button(yesLabel, () => {
    restore();
    onYes();
  }, "button-small button-danger");
  step.append(element("span", "confirm-question", question), " ", yes, " ", no);
  step.addEventListener("keydown", (event) => {
    if (event.key === "Escape") restore();
  });
  for (const child of container.children) child.hidden = true;
  container.append(step);
  no.focus();
}

function confirmDelete(item) {
  const actions = item.querySelector(".message-actions");
  confirmStep(actions, text.textDeleteConfirm, text.textDeleteYes, () => {
    send({ type: "chat.delete", id: Number(item.dataset.id) });
  }, actions.querySelector(".delete"));
}

function onDeleted(frame) {
  const item = itemFor(frame.id);
  if (!item) return;
  const hadFocus = item.contains(document.activeElement);
  updateMessage(item, { deleted: true });
  if (hadFocus) {
    // The buttons are gone; keep keyboard users on the message rather than the page top.
    item.tabIndex = -1;
    item.focus();
  }
}

// Presence ------------------------------------------------------------------------------

function statusLabel(value) {
  return statusSelect.querySelector(`option[value="${value}"]`)?.textContent || value;
}

function presenceItem(id) {
  return presenceList.querySelector(`li[data-user-id="${id}"]`);
}

function buildPresenceItem(member) {
  const item = element("li");
  item.dataset.userId = member.id;
  const since = element("span", "presence-since", `${text.textSince} `);
  since.append(document.createElement("time"));
  item.append(element("span", "presence-name"), " ", element("span", "presence-status"), " ", since);
  return item;
}

function moderationTools(item, member) {
  if (!me.staff || member.id === me.id || item.querySelector(".presence-actions")) return;
  const tools = element("span", "presence-actions");
  tools.setAttribute("role", "group");
  tools.setAttribute("aria-label", fill(text.textModerate, { name: member.name }));
  const removeButton = button(text.textRemove, () => {
    confirmStep(tools, fill(text.textRemoveConfirm, { name: member.name }), text.textRemoveYes, () => {
      send({ type: "member.remove", user_id: member.id });
    }, removeButton);
  }, "button-small button-danger");
  tools.append(
    button(text.textMute, () => send({ type: "member.mute", user_id: member.id, minutes: MUTE_MINUTES })),
    button(text.textUnmute, () => send({ type: "member.mute", user_id: member.id, minutes: 0 })),
    removeButton,
  );
  item.append(tools);
}

function upsertMember(member) {
  names.set(member.id, member.name);
  let item = presenceItem(member.id);
  if (!item) {
    item = buildPresenceItem(member);
    // By name, as the server orders its lists.
    const key = member.name.toLocaleLowerCase(lang);
    const after = [...presenceList.children].find(
      (other) => other.querySelector(".presence-name").textContent.toLocaleLowerCase(lang) > key,
    );
    presenceList.insertBefore(item, after || null);
  }
  item.dataset.status = member.status;
  item.querySelector(".presence-name").textContent = member.name;
  item.querySelector(".presence-status").textContent = statusLabel(member.status);
  setTime(item.querySelector(".presence-since time"), member.since);
  moderationTools(item, member);
  // Another tab of mine changed my status.
  if (member.id === me.id) statusSelect.value = statusSelect.dataset.current = member.status;
}

function removeMember(id) {
  const item = presenceItem(id);
  if (!item) return;
  if (item.contains(document.activeElement)) presenceList.focus();
  item.remove();
}

function replacePresence(members) {
  const keep = new Set(members.map((member) => member.id));
  for (const item of [...presenceList.children]) {
    if (!keep.has(Number(item.dataset.userId))) removeMember(item.dataset.userId);
  }
  members.forEach(upsertMember);
}

function onModerationDone(frame) {
  const name = names.get(frame.user_id) || "";
  const message = { mute: text.textMutedDone, unmute: text.textUnmutedDone, remove: text.textRemovedDone }[frame.action];
  if (message) moderationStatus.textContent = fill(message, { name });
}

// Being muted, being sent away ----------------------------------------------------------

function setMuted(until) {
  clearTimeout(muteTimer);
  const end = until ? new Date(until) : null;
  const muted = end !== null && end > new Date();
  const wasMuted = textarea.disabled && !ended;
  textarea.disabled = muted || ended;
  sendButton.disabled = muted || ended;
  mutedNote.hidden = !muted;
  if (muted) {
    mutedNote.textContent = fill(text.textMutedUntil, { time: clock.format(end) });
    // The server only says when a mute starts or is lifted early, not when it runs out.
    muteTimer = setTimeout(() => setMuted(null), end - new Date());
  } else if (wasMuted) {
    say(text.textUnmuted);
  }
}

function endLive(code) {
  ended = true;
  say(farewell?.message || text.textEnded);
  textarea.disabled = sendButton.disabled = statusSelect.disabled = true;
  for (const tools of root.querySelectorAll(".message-actions, .presence-actions, .message-editor")) {
    tools.remove();
  }
  showOlderButton();
  // Logged out: the page itself now leads to the login page.
  if (code === KICK_CODES.loggedOut) setTimeout(() => location.reload(), 1500);
}

// The socket ----------------------------------------------------------------------------

const handlers = {
  hello(frame) {
    if (frame.v !== PROTOCOL_VERSION) {
      say(text.textReload);
      socket.close();
      return;
    }
    backoff = 1000;
    say(text.textConnected);
    me = { id: frame.you.id, staff: Boolean(frame.you.staff) };
    statusSelect.value = statusSelect.dataset.current = frame.you.status;
    statusSelect.disabled = false;
    olderButton.disabled = false;
    setMuted(frame.you.muted_until);
    replacePresence(frame.presence);
    for (const item of log.querySelectorAll("li[data-id]")) addActions(item);
    const catchUpFrom = lastId;
    frame.history.forEach(addMessage);
    requestSince(catchUpFrom);
    // Resend what never got its ack; the server stores each client_id once.
    for (const [clientId, entry] of pending) sendChat(clientId, entry.text);
  },
  "presence.snapshot": (frame) => replacePresence(frame.members),
  "presence.update": (frame) => {
    (frame.left || []).forEach(removeMember);
    (frame.members || []).forEach(upsertMember);
  },
  "chat.message": (frame) => addMessage(frame.message),
  "chat.ack": onAck,
  "chat.edited": onEdited,
  "chat.deleted": onDeleted,
  "history.page": (frame) => {
    if (pageRequests.shift() === "before") {
      loadingOlder = false;
      addOlder(frame.messages);
      hasOlder = frame.has_more;
      if (!hasOlder && document.activeElement === olderButton) scroller.focus();
      showOlderButton();
      return;
    }
    frame.messages.forEach(addMessage);
    if (frame.has_more) requestSince(lastId);
  },
  "moderation.done": onModerationDone,
  "you.muted": (frame) => setMuted(frame.until),
  bye: (frame) => {
    farewell = frame;
  },
  error: (frame) => {
    reopenEditors();
    say(frame.message);
  },
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
  pageRequests = [];
  loadingOlder = false;
  let opened = false;
  socket.addEventListener("open", () => {
    opened = true;
    pingTimer = setInterval(() => send({ type: "ping" }), PING_EVERY_MS);
  });
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    handlers[frame.type]?.(frame);
  });
  socket.addEventListener("close", (event) => {
    clearInterval(pingTimer);
    if (event.code >= KICK_CODES.min && event.code <= KICK_CODES.max) {
      endLive(event.code);
      return;
    }
    say(text.textReconnecting);
    if (!opened) explainRefusal();
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  });
}

// Wiring --------------------------------------------------------------------------------

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const body = textarea.value.trim();
  if (!body || textarea.disabled) return;
  const clientId = crypto.randomUUID();
  const item = messageItem({
    id: null,
    author: { id: me.id, name: root.dataset.you || "" },
    text: body,
    created_at: new Date().toISOString(),
  });
  item.append(element("p", "message-state", text.textSending));
  log.append(item);
  scrollToEnd();
  pending.set(clientId, { text: body, item });
  if (socket && socket.readyState === WebSocket.OPEN) sendChat(clientId, body);
  textarea.value = "";
});

textarea.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

statusSelect.addEventListener("change", () => {
  if (!send({ type: "presence.status", status: statusSelect.value })) {
    statusSelect.value = statusSelect.dataset.current;
    return;
  }
  statusSelect.dataset.current = statusSelect.value;
  // The server tells everyone else; this connection gets no update for its own change.
  const mine = presenceItem(me.id);
  if (mine) {
    upsertMember({
      id: me.id,
      name: mine.querySelector(".presence-name").textContent,
      status: statusSelect.value,
      since: new Date().toISOString(),
    });
  }
});

olderButton.addEventListener("click", loadOlder);

// Scrolling to the top loads more on its own; the button is the keyboard path to the same.
new IntersectionObserver(
  (entries) => {
    if (entries.some((entry) => entry.isIntersecting)) loadOlder();
  },
  { root: scroller },
).observe(olderButton);

// Server-rendered times are in the member's profile time zone; show the browser's, like
// live ones.
for (const node of root.querySelectorAll("time[datetime]")) setTime(node, node.dateTime);
for (const link of log.querySelectorAll(".message-text a")) link.rel = LINK_REL;
presenceList.tabIndex = -1;
showOlderButton();
scrollToEnd();
connect();
