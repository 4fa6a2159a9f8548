// A conversation page, live: messages sent and received over the member socket (me.js),
// "typing", read receipts, the day separators and a "jump to latest" button. Without this
// script (or while disconnected) the form posts over HTTP and the page still works.

import { element, guardLinks, lang, linkified, timeElement } from "./room/dom.js";
import { inbox, isConnected, send, showing } from "./me.js";

const root = document.getElementById("conversation");
const conversationId = Number(root.dataset.conversationId);
const myId = Number(root.dataset.youId);
const direct = root.dataset.kind === "direct";
const others = Number(root.dataset.others);
const scroller = root.querySelector(".messages-scroll");
const log = root.querySelector(".messages-log");
const empty = root.querySelector(".messages-empty");
const receipt = root.querySelector(".read-receipt");
const typingLine = root.querySelector(".typing");
const jump = root.querySelector(".jump-latest");
const form = document.getElementById("conversation-form");
const textarea = form.querySelector("textarea");
const clientIdField = form.querySelector("input[name=client_id]");
const status = form.querySelector(".send-status");

const TYPING_EVERY_MS = 2500;
const TYPING_SHOWN_MS = 5000;

const day = new Intl.DateTimeFormat(lang, {
  timeZone: root.dataset.timeZone || undefined, weekday: "long", day: "numeric", month: "long",
});
const dayKey = new Intl.DateTimeFormat("en-CA", {
  timeZone: root.dataset.timeZone || undefined, year: "numeric", month: "2-digit", day: "2-digit",
});

// {member id: the last message they have read}
const readMarks = new Map(
  (root.dataset.readMarks || "").split(",").filter(Boolean).map((pair) => pair.split(":").map(Number)),
);
const typists = new Map(); // {member id: [name, timer]}
let lastTyped = 0;

showing.conversation = conversationId;
guardLinks(log.querySelectorAll(".message-text a"));

function lastId() {
  const items = log.querySelectorAll("li.chat-message[data-id]");
  return items.length ? Number(items[items.length - 1].dataset.id) : 0;
}

function nearBottom() {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
}

function toBottom() {
  scroller.scrollTop = scroller.scrollHeight;
  jump.hidden = true;
}

function messageItem(message) {
  const item = element("li", "chat-message");
  if (message.author && message.author.id === myId) item.classList.add("mine");
  item.dataset.id = message.id;
  item.dataset.clientId = message.client_id;
  item.dataset.authorId = message.author ? message.author.id : "";
  const meta = element("p", "message-meta");
  const author = message.author ? message.author.name : gettext("Former member");
  meta.append(element("span", "message-author", author), " ", timeElement(message.created_at));
  const body = element("p", "message-text");
  item.append(meta, body);
  if (message.deleted) {
    showRemoved(item);
    return item;
  }
  body.append(linkified(message.text));
  // Someone else's message can be reported to staff, on a page of its own.
  if (message.id && message.author && message.author.id !== myId) {
    const report = element("a", "report", gettext("Report"));
    report.append(element("span", "visually-hidden", ` ${interpolate(
      gettext("this message by %(name)s"), { name: message.author.name }, true,
    )}`));
    report.href = root.dataset.reportUrl.replace("/0/", `/${message.id}/`);
    const actions = element("p", "message-actions");
    actions.append(report);
    item.append(actions);
  }
  return item;
}

function showRemoved(item) {
  const body = item.querySelector(".message-text");
  body.className = "message-text muted";
  body.textContent = gettext("Staff removed this message.");
  item.querySelector(".message-actions")?.remove();
}

function daySeparator(iso) {
  const when = new Date(iso);
  const key = dayKey.format(when);
  const separators = log.querySelectorAll("li.day-separator");
  const latest = separators[separators.length - 1];
  if (latest && latest.dataset.day === key) return null;
  const separator = element("li", "day-separator", day.format(when));
  separator.dataset.day = key;
  return separator;
}

function add(message) {
  const known = log.querySelector(`li.chat-message[data-id="${message.id}"]`);
  if (known) {
    known.querySelector(".message-author").textContent = message.author?.name ?? "";
    return;
  }
  const pending = log.querySelector(`li.chat-message[data-client-id="${message.client_id}"]:not([data-id])`);
  const item = messageItem(message);
  const follow = nearBottom();
  if (pending) {
    pending.replaceWith(item);
  } else {
    const separator = daySeparator(message.created_at);
    if (separator) log.append(separator);
    log.append(item);
  }
  log.hidden = false;
  empty.hidden = true;
  if (message.author && message.author.id !== myId) {
    stopTyping(message.author.id);
    markRead();
  }
  showReceipt();
  if (follow || (message.author && message.author.id === myId)) toBottom();
  else jump.hidden = false;
}

// Read receipts: under my latest message, who has read it.
function showReceipt() {
  const mine = log.querySelectorAll(`li.chat-message[data-author-id="${myId}"][data-id]`);
  const latest = mine.length ? Number(mine[mine.length - 1].dataset.id) : 0;
  if (!latest || Number(lastId()) !== latest) {
    receipt.textContent = "";
    return;
  }
  const seen = [...readMarks.values()].filter((mark) => mark >= latest).length;
  if (direct) {
    receipt.textContent = seen ? gettext("Seen") : "";
  } else {
    receipt.textContent = seen
      ? interpolate(gettext("Seen by %(seen)s of %(total)s"), { seen, total: others }, true)
      : "";
  }
}

function markRead() {
  if (document.visibilityState !== "visible") return;
  const upto = lastId();
  if (upto) send({ type: "read", conversation: conversationId, upto });
}

function showTyping() {
  const names = [...typists.values()].map(([name]) => name);
  if (!names.length) typingLine.textContent = "";
  else if (names.length === 1) {
    typingLine.textContent = interpolate(gettext("%(name)s is typing…"), { name: names[0] }, true);
  } else typingLine.textContent = gettext("Several people are typing…");
}

function stopTyping(memberId) {
  const entry = typists.get(memberId);
  if (!entry) return;
  clearTimeout(entry[1]);
  typists.delete(memberId);
  showTyping();
}

inbox.addEventListener("frame", (event) => {
  const frame = event.detail;
  if (frame.type === "hello") {
    // (Re)connected: catch up on what was said meanwhile, from the last message shown.
    send({ type: "messages.since", conversation: conversationId, after: lastId() });
  } else if (frame.conversation !== conversationId && frame.message?.conversation !== conversationId) {
    return;
  } else if (frame.type === "message.new") {
    add(frame.message);
  } else if (frame.type === "messages") {
    for (const message of frame.messages) add(message);
    if (frame.has_more) {
      send({ type: "messages.since", conversation: conversationId, after: lastId() });
    }
  } else if (frame.type === "message.ack") {
    // Stored: the message may reach this page before or after its ack.
    const pending = log.querySelector(`li.chat-message[data-client-id="${frame.client_id}"]:not([data-id])`);
    if (pending) {
      pending.dataset.id = frame.id;
      pending.classList.remove("pending");
    }
    status.textContent = "";
  } else if (frame.type === "typing" && frame.member.id !== myId) {
    stopTyping(frame.member.id);
    typists.set(frame.member.id, [
      frame.member.name, setTimeout(() => stopTyping(frame.member.id), TYPING_SHOWN_MS),
    ]);
    showTyping();
  } else if (frame.type === "read" && frame.member !== myId) {
    readMarks.set(frame.member, frame.upto);
    showReceipt();
  } else if (frame.type === "message.deleted") {
    const item = log.querySelector(`li.chat-message[data-id="${frame.id}"]`);
    if (item) showRemoved(item);
  } else if (frame.type === "conversation.changed") {
    status.textContent = gettext("This conversation changed. Reload the page to see it.");
  }
});

// Errors answer one message, by its client_id: put its text back to try again.
inbox.addEventListener("frame", (event) => {
  const frame = event.detail;
  if (frame.type !== "error" || !frame.client_id) return;
  const pending = log.querySelector(`li.chat-message[data-client-id="${frame.client_id}"]:not([data-id])`);
  if (!pending) return;
  if (!textarea.value) textarea.value = pending.querySelector(".message-text").textContent;
  pending.remove();
  status.textContent = frame.message;
  textarea.focus();
});

form.addEventListener("submit", (event) => {
  const text = textarea.value.trim();
  if (!text || !isConnected()) return; // the form posts over HTTP and the server answers
  event.preventDefault();
  const clientId = clientIdField.value;
  if (!send({ type: "message.send", conversation: conversationId, text, client_id: clientId })) {
    form.submit();
    return;
  }
  // Shown at once, greyed out until the server has it; a new id for the next message.
  const item = messageItem({
    id: "", client_id: clientId, text, created_at: new Date().toISOString(),
    author: { id: myId, name: gettext("You") },
  });
  item.removeAttribute("data-id");
  item.classList.add("pending");
  const separator = daySeparator(new Date().toISOString());
  if (separator) log.append(separator);
  log.append(item);
  log.hidden = false;
  empty.hidden = true;
  toBottom();
  textarea.value = "";
  clientIdField.value = crypto.randomUUID();
  status.textContent = gettext("Sending…");
});

// Enter sends, Shift+Enter starts a new line.
textarea.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

textarea.addEventListener("input", () => {
  const now = Date.now();
  if (textarea.value.trim() && now - lastTyped > TYPING_EVERY_MS) {
    lastTyped = now;
    send({ type: "typing", conversation: conversationId });
  }
});

scroller.addEventListener("scroll", () => {
  if (nearBottom()) jump.hidden = true;
});
jump.querySelector("button").addEventListener("click", () => {
  toBottom();
  textarea.focus();
});
document.addEventListener("visibilitychange", markRead);

// Open where the member left off: at the first new message, or at the latest.
const marker = document.getElementById("new-messages");
if (marker) scroller.scrollTop = marker.offsetTop - scroller.offsetTop - 8;
else toBottom();
showReceipt();
