// The chat: the log in id order, history (catching up after a reconnection, older pages on
// scroll or by button), sending with delivery acks and resending, and the composer's state
// while its author is muted or the page has ended.

import { serverNow } from "../clock.js";
import { daySeparators } from "./days.js";
import { clockTime, element, fill, guardLinks, setTime } from "./dom.js";
import { LogFollower } from "./follow.js";
import { live, root, say, send, socket } from "./live.js";
import { mentionPicker } from "./mention-picker.js";
import {
  addActions, messageItem, reopenEditors, showDeleted, showEdited, showReactions, updateMessage,
} from "./message.js";
import { presentMembers } from "./presence.js";
import { closePickerOf } from "./reactions.js";
import { quoteBlock, quoteOf, ReplyComposer, requote } from "./reply.js";

const PAGE_SIZE = 50;
// The server takes 10 chat frames per member per 10 s (docs/websocket-protocol.md, Limits):
// what waits to be sent (a reconnection's unacknowledged messages, a fast typist) goes out
// under that pace, a little below it to leave room for edits and another tab.
const PACE_WINDOW_MS = 10_000;
const PACE_MAX = 8;
const RETRY_AFTER_MS = 3_000;

const scroller = document.getElementById("messages-scroll");
const log = document.getElementById("messages");
const olderButton = document.getElementById("load-older");
const form = document.getElementById("chat-form");
const textarea = document.getElementById("chat-text");
const sendButton = form.querySelector("button[type=submit]");
const mutedNote = document.getElementById("chat-muted");
const follower = new LogFollower(scroller, root.querySelector(".jump-latest"), () => textarea.focus());
const reply = new ReplyComposer(form.querySelector(".replying"), textarea);
const syncDays = daySeparators(log, root.dataset.timeZone);

const rendered = new Set(
  [...log.querySelectorAll("li[data-id]")].map((item) => Number(item.dataset.id)),
);
const pending = new Map(); // client_id -> {text, replyTo, item}, until acknowledged
let outbox = []; // client_ids to send on this connection, oldest first
let sentAt = []; // when the last chat frames went out (for the pace)
let paceTimer = null;
// history.page does not say what it answers; the server handles one frame at a time per
// connection, so pages (or the errors refusing them) come back in the order they were asked
// for. Each entry: {kind: "before"} or {kind: "since", after}.
let pageRequests = [];
let connection = 0; // counts connections: a retry planned on one is not made on the next
// Where the page is complete: every message of the room up to this one (by its number in
// the room, `seq`, which skips none) is on the page or hidden from this member. Live
// messages move it on one by one. One further on than the next means others were missed
// (a drop, or a broadcast overtaken by another server process's): they get GAP_WAIT_MS to
// turn up, then the page catches up from here. A catch-up page says how far it reaches.
const GAP_WAIT_MS = 2000;
let complete = { id: Number(log.dataset.uptoId) || 0, seq: Number(log.dataset.uptoSeq) || 0 };
const ahead = new Map(); // seq -> id of the messages seen beyond `complete`
let gapTimer = null;
// Until a catch-up has paged to its end, what it brings is on its way: no second one.
let catchingUp = false;
// Until when (the server's clock, ms) the page knows every message it holds as it is: the
// moment it was drawn, then each connection's `hello` once its catch-up arrived. The next
// catch-up asks for what was edited or deleted since (`changed_since`), less a margin for
// a change made while a socket was being set up; `syncing` is the `now` of the `hello`
// whose catch-up is on its way.
const CHANGES_MARGIN_MS = 60_000;
let syncedAt = Number(log.dataset.syncedAt) || 0;
let syncing = 0;
let hasOlder = rendered.size >= PAGE_SIZE;
let loadingOlder = false;
let muteTimer = null;
let muted = false;

function reach(upto) {
  if (upto.seq > complete.seq) complete = { id: upto.id, seq: upto.seq };
  for (const seq of ahead.keys()) if (seq <= complete.seq) ahead.delete(seq);
  while (ahead.has(complete.seq + 1)) {
    const seq = complete.seq + 1;
    complete = { id: ahead.get(seq), seq };
    ahead.delete(seq);
  }
  if (!ahead.size) {
    clearTimeout(gapTimer); // the gap it waited on is filled: a new one gets its own wait
    gapTimer = null;
  } else if (!catchingUp && gapTimer === null) {
    gapTimer = setTimeout(() => {
      gapTimer = null;
      if (ahead.size && !catchingUp && socket.isOpen && !live.ended) {
        catchingUp = true;
        requestSince(complete.id);
      }
    }, GAP_WAIT_MS);
  }
}

function noteSeen(id, seq) {
  if (seq > complete.seq) ahead.set(seq, id);
  reach(complete);
}

function itemFor(id) {
  return log.querySelector(`li[data-id="${id}"]`);
}

function placeMessage(item, id) {
  // Keep the log ordered by id whatever order pages arrive in; what is still being sent
  // stays last. Almost every message is the newest: it goes after the last one held, found
  // from the end, without reading a log that a room left open all day makes long.
  let node = log.lastElementChild;
  let firstPending = null;
  while (node && !node.dataset.id) {
    if (node.classList.contains("pending")) firstPending = node;
    node = node.previousElementSibling;
  }
  if (!node || Number(node.dataset.id) < id) {
    log.insertBefore(item, firstPending);
    return;
  }
  const later = [...log.querySelectorAll("li[data-id]")].find((other) => Number(other.dataset.id) > id);
  log.insertBefore(item, later || log.querySelector("li.pending"));
}

function addMessage(message) {
  if (rendered.has(message.id)) {
    const item = itemFor(message.id);
    if (item) updateMessage(item, message);
    return;
  }
  const stick = follower.atEnd();
  rendered.add(message.id);
  noteSeen(message.id, message.seq);
  placeMessage(messageItem(message), message.id);
  if (stick && rendered.size > TRIM_AT) trimOldest();
  syncDays();
  follower.added(stick);
}

// A room left open all day would hold every message of the day, and each new one would
// cost more than the last. While the member follows the end of the log, the oldest go
// beyond TRIM_AT, down to KEEP; scrolling up brings them back as older pages.
const TRIM_AT = 500;
const KEEP = 400;

function trimOldest() {
  quietly(() => {
    let node = log.firstElementChild;
    while (node && rendered.size > KEEP) {
      const next = node.nextElementSibling;
      if (node.classList.contains("pending") || node.contains(document.activeElement)) break;
      if (node.dataset.id) rendered.delete(Number(node.dataset.id));
      node.remove();
      node = next;
    }
  });
  hasOlder = true;
  showOlderButton();
}

// The log is a live region for what people say. Other changes to it (an older page, the
// buttons each message gets once connected, a reaction count) would otherwise be read out
// by screen readers, over and over: they are made with it quiet.
function quietly(change) {
  log.setAttribute("aria-live", "off");
  change();
  requestAnimationFrame(() => log.setAttribute("aria-live", "polite"));
}

function addOlder(messages) {
  quietly(() => {
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    for (const message of messages) {
      if (rendered.has(message.id)) continue;
      rendered.add(message.id);
      placeMessage(messageItem(message), message.id);
    }
    syncDays();
    // Keep what the person was reading where it was.
    scroller.scrollTop = scroller.scrollHeight - fromBottom;
  });
}

function oldestId() {
  const first = log.querySelector("li[data-id]");
  return first ? Number(first.dataset.id) : 0;
}

function loadOlder() {
  // Quietly: the observer also calls this before the socket is up.
  if (loadingOlder || !hasOlder || live.ended || !socket.isOpen) return;
  const before = oldestId();
  if (!before) return;
  if (send({ type: "history.before", before_id: before })) {
    loadingOlder = true;
    pageRequests.push({ kind: "before" });
  }
}

function showOlderButton() {
  olderButton.parentElement.hidden = !hasOlder;
  olderButton.disabled = live.ended;
}

function requestSince(afterId, changes = false) {
  const frame = { type: "history.since", after_id: afterId };
  if (changes && syncedAt > CHANGES_MARGIN_MS) frame.changed_since = syncedAt - CHANGES_MARGIN_MS;
  if (send(frame)) {
    pageRequests.push({ kind: "since", after: afterId, changes });
  }
}

/** Messages the page holds that were edited or deleted while its connection was down. */
function applyChanges(messages) {
  quietly(() => {
    for (const message of messages) {
      // As if heard live; one the page does not hold (older than it loaded) changes nothing.
      if (message.deleted) chatHandlers["chat.deleted"]({ id: message.id });
      else chatHandlers["chat.edited"]({ message });
    }
  });
}

/** Send what waits in the outbox, oldest first, without going over the server's budget. */
function flush() {
  clearTimeout(paceTimer);
  paceTimer = null;
  while (outbox.length && socket.isOpen) {
    const now = Date.now();
    sentAt = sentAt.filter((time) => time > now - PACE_WINDOW_MS);
    if (sentAt.length >= PACE_MAX) {
      paceTimer = setTimeout(flush, sentAt[0] + PACE_WINDOW_MS - now);
      return;
    }
    const clientId = outbox.shift();
    const entry = pending.get(clientId);
    if (!entry) continue;
    const frame = { type: "chat.send", client_id: clientId, text: entry.text };
    if (entry.replyTo) frame.reply_to = entry.replyTo;
    if (entry.question) frame.question = true;
    if (!send(frame)) {
      outbox.unshift(clientId);
      return;
    }
    sentAt.push(now);
  }
}

function queue(clientId) {
  if (!outbox.includes(clientId)) outbox.push(clientId);
  flush();
}

/** An error frame about one of our messages (it carries its client_id): retry it later if
 * the budget ran out, otherwise it will never go: say so on the message. Returns whether
 * the frame was about a message of ours. */
export function chatError(frame) {
  const entry = pending.get(frame.client_id);
  if (!entry) return false;
  if (frame.code === "rate_limited" || frame.code === "server_error") {
    setTimeout(() => {
      if (pending.has(frame.client_id)) {
        outbox.unshift(frame.client_id);
        flush();
      }
    }, RETRY_AFTER_MS);
    return true;
  }
  pending.delete(frame.client_id);
  entry.item.classList.add("message-failed");
  entry.item.querySelector(".message-state").textContent = fill(gettext("not sent: {reason}"), {
    reason: frame.message,
  });
  say(frame.message);
  return true;
}

/** An error frame refusing one of our history requests (its `about`): no page answers it.
 * A catch-up refused for the budget, or by a hiccup of the server, is asked again a little
 * later, or the messages it would bring would be missing for good; an older page is left
 * for the member to ask again. Returns whether the frame was about a history request. */
export function historyError(frame) {
  if (frame.about !== "history.since" && frame.about !== "history.before") return false;
  const request = pageRequests.shift();
  if (request?.kind === "since") {
    if (frame.code === "rate_limited" || frame.code === "server_error") {
      const on = connection;
      setTimeout(() => {
        if (on === connection && !live.ended) requestSince(request.after, request.changes);
      }, RETRY_AFTER_MS);
    } else {
      catchingUp = false; // refused for good (the room closed, say): nothing is on its way
      reach(complete);
    }
  } else {
    loadingOlder = false;
    showOlderButton();
    say(frame.message);
  }
  return true;
}

function onAck(frame) {
  const entry = pending.get(frame.client_id);
  if (!entry) return;
  pending.delete(frame.client_id);
  entry.item.querySelector(".message-state").textContent = gettext("delivered");
  if (rendered.has(frame.id)) {
    entry.item.remove(); // Already shown through history after a reconnection.
    return;
  }
  entry.item.dataset.id = frame.id;
  entry.item.classList.remove("pending");
  // Stamped by the page as it was sent; the stored time is everyone's.
  const time = entry.item.querySelector("time");
  if (time && frame.created_at) {
    setTime(time, frame.created_at);
    syncDays();
  }
  rendered.add(frame.id);
  noteSeen(frame.id, frame.seq);
  showReactions(entry.item, []);
  addActions(entry.item);
}

function onPage(frame) {
  const request = pageRequests.shift();
  if (request?.kind === "before") {
    loadingOlder = false;
    addOlder(frame.messages);
    hasOlder = frame.has_more;
    if (!hasOlder && document.activeElement === olderButton) scroller.focus();
    showOlderButton();
    return;
  }
  frame.messages.forEach(addMessage);
  if (request?.changes) {
    applyChanges(frame.changed || []);
    if (syncing) syncedAt = syncing;
  }
  // A server of before `upto` (for a minute, during a deploy) pages by the last message.
  const upto = frame.upto || { id: frame.messages[frame.messages.length - 1]?.id || 0, seq: 0 };
  // From the page's own last message: live ones may have come in meanwhile, newer still.
  if (frame.has_more) {
    requestSince(upto.id);
  } else {
    catchingUp = false;
  }
  reach(upto);
}

/** `until`: when the member's mute ends (none: not muted). `announce`: say a new mute in
 * the status line (the server just muted them), not only beside the message box. */
export function setMuted(until, announce = false) {
  clearTimeout(muteTimer);
  const end = until ? new Date(until) : null;
  const wasMuted = muted;
  muted = end !== null && end.getTime() > serverNow();
  // Read-only, not disabled: a disabled box would drop the focus of whoever is typing in
  // it, with their draft. The submit handler refuses to send meanwhile.
  textarea.readOnly = muted;
  for (const control of [textarea, sendButton]) {
    if (muted) control.setAttribute("aria-disabled", "true");
    else control.removeAttribute("aria-disabled");
  }
  mutedNote.hidden = !muted;
  if (live.ended) return;
  if (muted) {
    mutedNote.textContent = fill(gettext("You are muted in this room until {time}."), { time: clockTime(end) });
    if (announce && !wasMuted) say(mutedNote.textContent);
    // The server only says when a mute starts or is lifted early, not when it runs out.
    muteTimer = setTimeout(() => setMuted(null), end.getTime() - serverNow());
  } else if (wasMuted) {
    say(gettext("You can write again."));
  }
}

export const chatHandlers = {
  "chat.message": (frame) => addMessage(frame.message),
  // A message this member does not see (a block): its number, so that no gap waits on it.
  "chat.skip": (frame) => noteSeen(frame.id, frame.seq),
  "chat.ack": onAck,
  "chat.edited": (frame) => {
    const item = itemFor(frame.message.id);
    if (item) showEdited(item, frame.message);
    requote(log, frame.message.id, frame.message.text);
  },
  "chat.deleted": (frame) => {
    const item = itemFor(frame.id);
    if (item) showDeleted(item);
    requote(log, frame.id);
  },
  "chat.reactions": (frame) => {
    const item = itemFor(frame.id);
    if (item) quietly(() => showReactions(item, frame.reactions, frame.version));
  },
  "history.page": onPage,
  "you.muted": (frame) => setMuted(frame.until, true),
};

/** After every `hello`: catch up on what was missed and resend what never got its ack. */
export function chatConnected(history, now) {
  olderButton.disabled = false;
  // The actions make every message taller: a log that was at its end stays there.
  const stick = follower.atEnd();
  quietly(() => {
    for (const item of log.querySelectorAll("li[data-id]")) addActions(item);
  });
  catchingUp = true;
  history.forEach(addMessage);
  if (stick) follower.toEnd();
  syncing = now || 0;
  requestSince(complete.id, true);
  // The server stores each client_id once, so a message sent before the drop and sent
  // again is still one message.
  outbox = [...pending.keys()];
  flush();
}

export function chatDropped() {
  connection += 1;
  pageRequests = [];
  clearTimeout(gapTimer);
  gapTimer = null;
  loadingOlder = false;
  // What went out on the lost connection may never have reached the server; if it did,
  // the server's `rate_limited` answers say so, and those messages are retried.
  outbox = [];
  sentAt = [];
  clearTimeout(paceTimer);
  paceTimer = null;
}

export function chatRefused() {
  reopenEditors(log);
}

export function chatEnded() {
  textarea.disabled = sendButton.disabled = true;
  for (const tools of log.querySelectorAll(".message-actions, .message-editor")) tools.remove();
  showOlderButton();
}

export function setUpChat() {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = textarea.value.trim();
    if (!body || textarea.disabled || muted) return;
    const clientId = crypto.randomUUID();
    // The stage's chat has "Ask as a question" (its Q&A); other rooms do not.
    const asking = document.getElementById("chat-question");
    const question = Boolean(asking?.checked);
    if (asking) asking.checked = false;
    const item = messageItem({
      id: null,
      author: { id: live.me.id, name: live.me.name },
      text: body,
      created_at: new Date(serverNow()).toISOString(),
      question,
    });
    item.classList.add("pending");
    item.append(element("p", "message-state", gettext("sending…")));
    const replyTo = reply.id;
    const answered = replyTo && log.querySelector(`li[data-id="${replyTo}"]`);
    if (answered) item.prepend(quoteBlock(quoteOf(answered)));
    reply.cancel();
    log.append(item);
    syncDays();
    follower.toEnd();
    pending.set(clientId, { text: body, replyTo, question, item });
    if (socket.isOpen) queue(clientId);
    textarea.value = "";
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  log.addEventListener("chat-reply", (event) => reply.start(event.target));
  mentionPicker(textarea, () => presentMembers().filter((member) => member.id !== live.me.id));
  // A reaction (static/js/room/reactions.js) toggles over the socket.
  log.addEventListener("click", (event) => {
    const choice = event.target.closest("[data-emoji]");
    const item = choice?.closest("li[data-id]");
    if (!item || live.ended) return;
    closePickerOf(choice);
    send({ type: "chat.react", id: Number(item.dataset.id), emoji: choice.dataset.emoji });
  });
  olderButton.addEventListener("click", loadOlder);
  // Scrolling to the top loads more on its own; the button is the keyboard path to the same.
  new IntersectionObserver(
    (entries) => {
      if (entries.some((entry) => entry.isIntersecting)) loadOlder();
    },
    { root: scroller },
  ).observe(olderButton);
  guardLinks(log.querySelectorAll(".message-text a"));
  showOlderButton();
  syncDays();
  follower.toEnd();
}
