// A conversation page, live: messages sent and received over the member socket (me.js),
// "typing", read receipts, the day separators and a "jump to latest" button. Without this
// script the form posts over HTTP and the page still works; while disconnected the script
// posts it over HTTP itself, or keeps it until the network is back (`postOverHttp`).

import { serverNow } from "./clock.js";
import { daySeparators } from "./room/days.js";
import { button, confirmStep, describedByMessage, element, emptiedEditError, guardLinks, linkified, reloadButton, setTime, timeElement } from "./room/dom.js";
import { LogFollower } from "./room/follow.js";
import { mentionPicker } from "./room/mention-picker.js";
import { closePickerOf, reactionBar, reactionsNewer, replaceReactionBar } from "./room/reactions.js";
import { quoteBlock, quoteOf, ReplyComposer, requote } from "./room/reply.js";
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
const form = document.getElementById("conversation-form");
const textarea = form.querySelector("textarea");
const clientIdField = form.querySelector("input[name=client_id]");
// Messages sent and not acknowledged yet, by client_id: sent again after every `hello`, a
// few a second (the member's budget for messages is 20 in 10 s), and again later when one
// is refused for the budget or a server hiccup.
const unacked = new Map();
const RESEND_EVERY_MS = 600;
const RETRIED = new Set(["rate_limited", "server_error"]);
let resending = null;

function resendUnacked() {
  clearTimeout(resending);
  const queue = [...unacked.keys()];
  const next = () => {
    const clientId = queue.shift();
    if (clientId === undefined) return;
    if (unacked.has(clientId)) send(unacked.get(clientId));
    resending = setTimeout(next, RESEND_EVERY_MS);
  };
  next();
}
const status = form.querySelector(".send-status");
const follower = new LogFollower(scroller, root.querySelector(".jump-latest"), () => textarea.focus());
const reply = new ReplyComposer(
  form.querySelector(".replying"), textarea, form.querySelector("input[name=reply_to]"),
);
const syncDays = daySeparators(log, root.dataset.timeZone);

const TYPING_EVERY_MS = 2500;
const TYPING_SHOWN_MS = 5000;
const CATCH_UP_RETRY_MS = 3000;
// A catch-up asks for the edits and deletions since the server's clock at the last sync
// (the page's rendering, then each hello), less this: a change made as a socket was being
// set up, whose frame it missed, comes again. Applying one twice changes nothing.
const CHANGES_MARGIN_MS = 60_000;
let syncedAt = Number(root.dataset.syncedAt) || 0;
let changesSince = null; // the last catch-up's, asked again should it be refused
let syncing = 0; // the `now` of the hello whose catch-up has not answered yet

function catchUp() {
  const frame = { type: "messages.since", conversation: conversationId, after: lastId() };
  if (changesSince) frame.changed_since = changesSince;
  return frame;
}

// {member id: the last message they have read}
const readMarks = new Map(
  (root.dataset.readMarks || "").split(",").filter(Boolean).map((pair) => pair.split(":").map(Number)),
);
const typists = new Map(); // {member id: [name, timer]}
let lastTyped = 0;
let lastKey = 0;
let catchUpTimer = null;

showing.conversation = conversationId;
guardLinks(log.querySelectorAll(".message-text a"));

// The log is a live region for what the others say, as the room's chat is. Everything else
// drawn in it (each message's buttons, edits, deletions, reactions, one's own messages) is
// drawn with it quiet, or screen readers would read that history out again.
function quietly(change) {
  log.setAttribute("aria-live", "off");
  change();
  requestAnimationFrame(() => log.setAttribute("aria-live", "polite"));
}

// What the member does in the log (an editor, a confirmation, the reaction menu opening)
// happens where their focus is: it is not news either.
for (const type of ["click", "keydown"]) {
  log.addEventListener(type, () => quietly(() => {}), { capture: true });
}

// The newest message here, whatever order they came in (two senders' messages may cross).
function lastId() {
  const ids = [...log.querySelectorAll("li.chat-message[data-id]")].map((item) => Number(item.dataset.id));
  return Math.max(0, ...ids.filter(Boolean));
}

function messageItem(message) {
  const item = element("li", "chat-message");
  if (message.author && message.author.id === myId) item.classList.add("mine");
  item.id = `m${message.id}`;
  item.dataset.id = message.id;
  item.dataset.clientId = message.client_id;
  item.dataset.authorId = message.author ? message.author.id : "";
  const meta = element("p", "message-meta");
  const author = message.author ? message.author.name : gettext("Former member");
  meta.append(element("span", "message-author", author));
  // The team's messages say so: a member's chosen name cannot.
  if (message.author?.staff) meta.append(" ", element("span", "team-badge", gettext("Team")));
  meta.append(" ", timeElement(message.created_at));
  item.append(meta, element("p", "message-text"));
  if (message.reply_to) item.prepend(quoteBlock(message.reply_to));
  showMessage(item, message);
  return item;
}

// The message's text, edit mark, reactions and actions, as the server now has them.
function showMessage(item, message) {
  const body = item.querySelector(".message-text");
  if (message.deleted) {
    showDeleted(item);
    return;
  }
  body.replaceChildren(linkified(message.text));
  const meta = item.querySelector(".message-meta");
  if (message.edited_at && !meta.querySelector(".message-edited")) {
    meta.append(" ", element("span", "message-edited", gettext("(edited)")));
  }
  item.dataset.text = message.text;
  if (message.attachment && !item.querySelector(".message-attachment")) {
    body.after(attachmentOf(message.attachment));
  }
  if (reactionsNewer(item, message.reactions_version)) {
    const bar = reactionBar(message.reactions || [], myId);
    const current = item.querySelector(".message-reactions");
    if (current) replaceReactionBar(current, bar);
    else item.append(bar);
  }
  replaceActions(item, actionsFor(item, message.author));
}

// Drawn again, a message's buttons are new ones: whoever was on one stays on its equivalent
// (on Delete from its confirmation), rather than dropped at the top of the page.
function replaceActions(item, actions) {
  const current = item.querySelector(".message-actions");
  if (!current) {
    item.append(actions);
    return;
  }
  const focused = current.contains(document.activeElement) ? document.activeElement : null;
  current.replaceWith(actions);
  if (!focused) return;
  const kind = focused.closest(".confirm-step")
    ? "delete"
    : ["reply", "edit", "delete", "report"].find((name) => focused.classList.contains(name));
  if (kind) actions.querySelector(`.${kind}`)?.focus();
}

// A picture shows as its thumbnail, opening whole in a new tab; a file is a download.
function attachmentOf(shared) {
  const paragraph = element("p", "message-attachment");
  paragraph.dataset.name = shared.name;
  const link = element("a");
  link.href = shared.url;
  if (shared.kind === "image") {
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    const picture = element("img");
    picture.src = shared.thumbnail_url;
    picture.alt = interpolate(gettext("Picture: %(name)s"), { name: shared.name }, true);
    picture.loading = "lazy";
    link.append(picture);
    paragraph.append(link);
  } else {
    link.download = shared.name;
    link.textContent = shared.name;
    paragraph.append(link, " ", element("span", "muted", `(${Math.max(1, Math.round(shared.size / 1024))} KB)`));
  }
  return paragraph;
}

function actionsFor(item, author) {
  const actions = element("div", "message-actions");
  if (!item.dataset.id) return actions;
  actions.append(button(gettext("Reply"), () => reply.start(item), "button-small button-ghost reply"));
  if (author && author.id === myId) {
    actions.append(
      button(gettext("Edit"), () => startEdit(item), "button-small button-ghost edit"),
      button(gettext("Delete"), () => confirmDelete(item), "button-small button-ghost delete"),
    );
  } else if (author) {
    const report = element("a", "report", gettext("Report"));
    report.append(element("span", "visually-hidden", ` ${interpolate(
      gettext("this message by %(name)s"), { name: author.name }, true,
    )}`));
    report.href = root.dataset.reportUrl.replace("/0/", `/${item.dataset.id}/`);
    actions.append(report);
  }
  describedByMessage(item, actions);
  return actions;
}

function showDeleted(item) {
  const hadFocus = item.contains(document.activeElement);
  const body = item.querySelector(".message-text");
  body.className = "message-text muted";
  body.textContent = gettext("This message was deleted.");
  for (const part of item.querySelectorAll(".message-reactions, .message-actions, .message-editor, .message-editor-error, .message-edited, .message-attachment")) {
    part.remove();
  }
  if (hadFocus) {
    item.tabIndex = -1;
    item.focus();
  }
}

// A page drawn by the server: its messages get the same reactions and actions as new ones.
function enhance(item) {
  const reactions = [...item.querySelectorAll(".message-reactions button.reaction")].map((b) => ({
    emoji: b.value,
    count: Number(b.textContent.trim().split(" ").pop()),
    mine: b.getAttribute("aria-pressed") === "true",
  }));
  if (!item.querySelector(".message-reactions")) return; // deleted
  item.dataset.text = item.querySelector(".message-text").textContent;
  const members = (r) => {
    // The server's page gives counts; ids matter only for "mine".
    const ids = Array.from({ length: r.count - (r.mine ? 1 : 0) }, (_v, i) => -1 - i);
    return r.mine ? [myId, ...ids] : ids;
  };
  // A picker opened before this script ran (a quick tap) stays open, and keeps the focus.
  const bar = reactionBar(reactions.map((r) => ({ emoji: r.emoji, members: members(r) })), myId);
  replaceReactionBar(item.querySelector(".message-reactions"), bar);
  const authorId = Number(item.dataset.authorId) || null;
  const name = item.querySelector(".message-author").textContent;
  item.querySelector(".message-actions").replaceWith(
    actionsFor(item, authorId ? { id: authorId, name } : null),
  );
}

// Without a connection, a change goes as the server-side form would send it.
function postForm(path, fields) {
  const form = element("form");
  form.method = "post";
  form.action = path;
  const token = document.querySelector("input[name=csrfmiddlewaretoken]").cloneNode();
  form.append(token);
  for (const [name, value] of Object.entries(fields)) {
    const input = element("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.append(input);
  }
  document.body.append(form);
  form.submit();
}

function change(frame, fallbackPath, fields = {}) {
  if (isConnected() && send({ ...frame, conversation: conversationId })) return;
  postForm(fallbackPath, fields);
}

log.addEventListener("click", (event) => {
  const choice = event.target.closest("[data-emoji]");
  if (!choice) return;
  const item = choice.closest("li.chat-message");
  closePickerOf(choice);
  change(
    { type: "message.react", id: Number(item.dataset.id), emoji: choice.dataset.emoji },
    `${location.pathname}${item.dataset.id}/react/`,
    { emoji: choice.dataset.emoji },
  );
});

function startEdit(item) {
  if (item.querySelector(".message-editor")) return;
  const body = item.querySelector(".message-text");
  const editor = element("textarea", "message-editor");
  editor.value = item.dataset.text || body.textContent;
  editor.rows = 2;
  editor.maxLength = 4000;
  editor.setAttribute("aria-label", gettext("Edit your message"));
  body.hidden = true;
  body.after(editor);
  editor.focus();
  const emptied = emptiedEditError(editor, item.dataset.id);
  const close = () => {
    emptied.clear();
    editor.remove();
    body.hidden = false;
    item.querySelector(".edit")?.focus();
  };
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      const changed = editor.value.trim();
      if (!changed) {
        emptied.show();
        return;
      }
      if (send({ type: "message.edit", conversation: conversationId, id: Number(item.dataset.id), text: changed })) {
        editor.readOnly = true; // closed when message.edited (or an error) answers
      } else {
        status.textContent = gettext("Not connected: try again in a moment.");
      }
    }
  });
}

function confirmDelete(item) {
  const actions = item.querySelector(".message-actions");
  confirmStep(actions, gettext("Delete this message?"), gettext("Yes, delete"), () => {
    change(
      { type: "message.delete", id: Number(item.dataset.id) },
      `${location.pathname}${item.dataset.id}/delete/`,
    );
  }, actions.querySelector(".delete"));
}

function add(message) {
  const known = log.querySelector(`li.chat-message[data-id="${message.id}"]`);
  if (known) {
    // Acked before it came: now it gets its reactions and actions.
    quietly(() => {
      known.id = `m${message.id}`;
      known.querySelector(".message-author").textContent = message.author?.name ?? "";
      showMessage(known, message);
      // Stamped by the page as it was sent; the stored time is everyone's.
      const time = known.querySelector("time");
      if (time) setTime(time, message.created_at);
    });
    syncDays();
    return;
  }
  const pending = log.querySelector(`li.chat-message[data-client-id="${message.client_id}"]:not([data-id])`);
  const item = messageItem(message);
  const follow = follower.atEnd();
  const place = () => {
    if (pending) {
      pending.replaceWith(item);
    } else {
      // By id: two senders' messages may reach the page in either order. What is still
      // being sent stays last.
      const later = [...log.querySelectorAll("li.chat-message[data-id]")].find(
        (other) => Number(other.dataset.id) > message.id,
      );
      log.insertBefore(item, later || log.querySelector("li.chat-message.pending"));
    }
    syncDays();
  };
  // Mine (from this tab or another) was read out as it was written.
  if (message.author?.id === myId) quietly(place);
  else place();
  empty.hidden = true;
  if (message.author && message.author.id !== myId) {
    stopTyping(message.author.id);
    markRead();
  }
  showReceipt();
  follower.added(follow || (message.author && message.author.id === myId));
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

function onDeleted(id) {
  const item = log.querySelector(`li.chat-message[data-id="${id}"]`);
  quietly(() => {
    if (item) showDeleted(item);
    requote(log, id);
  });
}

function onEdited(message, { caughtUp = false } = {}) {
  const item = log.querySelector(`li.chat-message[data-id="${message.id}"]`);
  const editor = item?.querySelector(".message-editor");
  // A catch-up brings the member's own recent edits back: an editor they opened since stays.
  if (caughtUp && editor) return;
  // Its author saved it from the editor, which goes: they go on to the message's Edit.
  const wasEditing = Boolean(editor) && editor === document.activeElement;
  quietly(() => {
    requote(log, message.id, message.text);
    if (item) {
      editor?.remove();
      item.querySelector(".message-editor-error")?.remove();
      item.querySelector(".message-text").hidden = false;
      showMessage(item, message);
      if (wasEditing) item.querySelector(".edit")?.focus();
    }
  });
}

function onReactions(id, reactions, version) {
  const item = log.querySelector(`li.chat-message[data-id="${id}"]`);
  if (item && !item.querySelector(".message-text.muted") && reactionsNewer(item, version)) {
    const current = item.querySelector(".message-reactions");
    if (current) quietly(() => replaceReactionBar(current, reactionBar(reactions, myId)));
  }
}

inbox.addEventListener("frame", (event) => {
  const frame = event.detail;
  if (frame.type === "hello") {
    // (Re)connected: catch up on what was said meanwhile, from the last message shown, and
    // on what was edited or deleted among those shown.
    changesSince = syncedAt > CHANGES_MARGIN_MS ? syncedAt - CHANGES_MARGIN_MS : null;
    send(catchUp());
    // Synced once its answer is in: a drop before that asks from the same moment again.
    syncing = frame.now || 0;
    // What was sent into a connection that had died without a word never reached the
    // server: again, under its own client_id (a message that did arrive is acked again,
    // stored once).
    resendUnacked();
    // Keys pressed while the socket was opening were not heard: say it now.
    if (textarea.value.trim() && Date.now() - lastKey < TYPING_EVERY_MS && lastTyped < lastKey) {
      lastTyped = Date.now();
      send({ type: "typing", conversation: conversationId });
    }
  } else if (frame.conversation !== conversationId && frame.message?.conversation !== conversationId) {
    return;
  } else if (frame.type === "message.new") {
    add(frame.message);
  } else if (frame.type === "messages") {
    for (const message of frame.messages) add(message);
    if (frame.changed) {
      for (const message of frame.changed) {
        if (message.deleted) onDeleted(message.id);
        else onEdited(message, { caughtUp: true });
        onReactions(message.id, message.reactions, message.reactions_version);
      }
      if (syncing) syncedAt = syncing;
    }
    if (frame.has_more) {
      // After this page's last, not the newest shown: a message that came live meanwhile
      // is newer than those still to fetch.
      const after = frame.messages.at(-1).id;
      send({ type: "messages.since", conversation: conversationId, after });
    }
  } else if (frame.type === "message.ack") {
    unacked.delete(frame.client_id);
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
    // Marks only move forward (conversations.services.conversation_read): two server
    // processes' frames may arrive in the other order, and an older one must not win.
    readMarks.set(frame.member, Math.max(readMarks.get(frame.member) || 0, frame.upto));
    showReceipt();
  } else if (frame.type === "message.deleted") {
    onDeleted(frame.id);
  } else if (frame.type === "message.edited") {
    onEdited(frame.message);
  } else if (frame.type === "message.reactions") {
    onReactions(frame.id, frame.reactions, frame.version);
  } else if (frame.type === "conversation.changed") {
    status.replaceChildren(gettext("This conversation changed. Reload the page to see it."), " ", reloadButton());
  }
});

// Errors answer one message, by its client_id: put its text back to try again. Others
// (an edit, a reaction refused) are said in the form's status line.
inbox.addEventListener("frame", (event) => {
  const frame = event.detail;
  if (frame.type !== "error") return;
  if (frame.about === "messages.since") {
    // A catch-up refused for the budget (or a hiccup of the server) is asked again a little
    // later: given up, what it would bring would be missing until the next reload.
    if (frame.code === "rate_limited" || frame.code === "server_error") {
      clearTimeout(catchUpTimer);
      catchUpTimer = setTimeout(() => send(catchUp()), CATCH_UP_RETRY_MS);
    }
    return;
  }
  if (!frame.client_id) {
    for (const editor of log.querySelectorAll(".message-editor")) editor.readOnly = false;
    status.textContent = frame.message;
    return;
  }
  if (RETRIED.has(frame.code) && unacked.has(frame.client_id)) {
    // Refused for the budget (a burst of resends) or a hiccup of the server: the message
    // stays shown as sending and goes again a little later, under the same client_id.
    const clientId = frame.client_id;
    setTimeout(() => {
      if (unacked.has(clientId)) send(unacked.get(clientId));
    }, CATCH_UP_RETRY_MS);
    return;
  }
  unacked.delete(frame.client_id);
  const pending = log.querySelector(`li.chat-message[data-client-id="${frame.client_id}"]:not([data-id])`);
  if (!pending) return;
  if (!textarea.value) textarea.value = pending.querySelector(".message-text").textContent;
  pending.remove();
  status.textContent = frame.message;
  textarea.focus();
});

const fileField = form.querySelector("input[type=file]");

// Whether a post's answer came from this conversation's page: where the server sends a
// stored message's form back to.
function backHere(url) {
  return new URL(url).pathname === location.pathname;
}

// Not connected: the message goes over HTTP, and the page comes again with it, as without
// this script. With no network at all it stays here, shown as sending, and goes over the
// socket once that is back (after `hello`, as any unacknowledged message): a native post
// would have left the member on the browser's error page, the message lost. Its client_id
// makes it one message whichever way it arrives, and however often.
async function postOverHttp(body, frame) {
  const waiting = () => {
    if (unacked.has(frame.client_id)) {
      status.textContent = gettext("No connection: your message goes as soon as you are back.");
    }
  };
  let response;
  try {
    response = await fetch(form.action, { method: "POST", body, credentials: "same-origin" });
  } catch {
    waiting();
    return;
  }
  // The server or its proxy failing (a deploy under way, most likely why the socket is
  // down): as with no network, the message waits for the socket.
  if (response.status >= 500) {
    waiting();
    return;
  }
  // Stored: the server sends the form back to this conversation's page.
  if (response.ok && response.redirected && backHere(response.url)) {
    location.assign(response.url);
    return;
  }
  // Not stored. The text goes back into the box.
  unacked.delete(frame.client_id);
  log.querySelector(`li.chat-message[data-client-id="${frame.client_id}"]:not([data-id])`)?.remove();
  textarea.value = frame.text;
  clientIdField.value = frame.client_id;
  form.querySelector("input[name=reply_to]").value = frame.reply_to ?? "";
  if (response.redirected) {
    // Sent elsewhere: the session ended (the login page). Posting the form would lose the text
    // there; here it stays, to send once signed in again (in another tab, say).
    status.textContent = gettext("Not sent: you are signed out. Sign in again, then send it.");
    return;
  }
  // Refused (too long, too fast, no longer possible): posted again as the form, whose page
  // says why and keeps the text.
  form.submit();
}

const progress = form.querySelector(".upload-progress");
const cancelUpload = form.querySelector(".upload-cancel");
let uploading = false;
let upload = null; // the file's request, while it goes

function uploadBusy(on) {
  uploading = on;
  textarea.readOnly = on;
  progress.value = 0;
  progress.hidden = cancelUpload.hidden = !on;
}

cancelUpload.addEventListener("click", () => upload?.abort());

// A file goes with the form over HTTP, as the form's own post would send it, but from here,
// so that the page shows how much of it has gone up (10 MB take minutes on a slow
// connection, where the browser's post showed nothing moving until the page came back) and
// lets the member stop it, a file over the limit is refused before it goes, and nothing is
// lost when it is refused: the text and the file stay in the form. The others' pages, and
// this one, get the message over the socket. Nothing is disabled (site.js): a second submit
// is ignored while one goes.
function tooLarge() {
  return interpolate(
    gettext("The file is too large: the limit is %(limit)s MB."),
    { limit: Math.round(Number(fileField.dataset.maxBytes) / 2 ** 20) }, true,
  );
}

async function postFile() {
  uploadBusy(true);
  // A photo being drawn smaller (photo-shrink.js) goes as the smaller copy.
  await fileField.shrinking;
  if (fileField.files[0]?.size > Number(fileField.dataset.maxBytes)) {
    uploadBusy(false);
    status.textContent = tooLarge();
    return;
  }
  const body = new FormData(form);
  status.textContent = gettext("Sending the file…");
  const request = new XMLHttpRequest();
  upload = request;
  request.open("POST", location.href);
  request.upload.addEventListener("progress", (event) => {
    if (event.lengthComputable) progress.value = event.loaded / event.total;
  });
  request.addEventListener("loadend", () => {
    upload = null;
    uploadBusy(false);
  });
  request.addEventListener("load", () => fileAnswered(request));
  request.addEventListener("error", () => {
    status.textContent = gettext("The file was not sent: check your connection and send it again.");
  });
  request.addEventListener("abort", () => {
    status.textContent = gettext("Not sent.");
  });
  request.send(body);
}

function fileAnswered(request) {
  const page = new DOMParser().parseFromString(request.responseText, "text/html");
  if (request.status === 200 && backHere(request.responseURL)) {
    // Stored, and sent back to this page. Without a socket to bring the message, the page
    // comes again with it (an address without a fragment: loaded, even if it is this one),
    // unless texts wait here for the socket: the next catch-up brings the file's message.
    if (!isConnected() && unacked.size === 0) {
      location.assign(request.responseURL);
      return;
    }
    textarea.value = "";
    fileField.value = "";
    clientIdField.value = crypto.randomUUID();
    reply.cancel();
    follower.toEnd();
    // What the page would have said (a file that is not a picture the site shows, say).
    status.textContent = page.querySelector(".messages .message")?.textContent ?? "";
    return;
  }
  // Signed out (the login page), or signed in again since in another tab: this page's form
  // no longer carries a token the site takes (a 403), whatever is tried here.
  if (request.status === 200 || request.status === 403) {
    status.replaceChildren(
      gettext("This page is out of date: reload it, then send the file again."), " ", reloadButton(),
    );
    return;
  }
  // Refused by the proxy in front of the site, whose limit is a little above the site's.
  if (request.status === 413) {
    status.textContent = tooLarge();
    return;
  }
  // Refused (too large, empty, too fast): the page's errors, as the form's own post shows them.
  const errors = [...page.querySelectorAll("#conversation-form .errorlist li")];
  status.textContent = errors.map((error) => error.textContent).join(" ")
    || gettext("The file was not sent: check your connection and send it again.");
}

form.addEventListener("submit", (event) => {
  if (uploading) {
    event.preventDefault();
    return;
  }
  if (fileField?.files.length) {
    event.preventDefault();
    postFile();
    return;
  }
  const text = textarea.value.trim();
  if (!text) return;
  event.preventDefault();
  const clientId = clientIdField.value;
  const replyId = reply.id;
  const frame = { type: "message.send", conversation: conversationId, text, client_id: clientId };
  if (replyId) frame.reply_to = replyId;
  const body = new FormData(form); // before the form is emptied below
  const sent = send(frame);
  unacked.set(clientId, frame);
  // Shown at once, greyed out until the server has it; a new id for the next message.
  const item = messageItem({
    id: "", client_id: clientId, text, created_at: new Date(serverNow()).toISOString(),
    author: { id: myId, name: gettext("You") },
  });
  item.removeAttribute("data-id");
  item.removeAttribute("id");
  item.classList.add("pending");
  if (replyId) {
    const answered = log.querySelector(`li.chat-message[data-id="${replyId}"]`);
    if (answered) item.prepend(quoteBlock(quoteOf(answered)));
  }
  reply.cancel();
  quietly(() => {
    log.append(item);
    syncDays();
  });
  empty.hidden = true;
  follower.toEnd();
  textarea.value = "";
  clientIdField.value = crypto.randomUUID();
  status.textContent = gettext("Sending…");
  if (!sent) postOverHttp(body, frame);
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
  lastKey = now;
  // Only a frame that left counts: typed before the socket opened, the next key tries again.
  if (textarea.value.trim() && now - lastTyped > TYPING_EVERY_MS
      && send({ type: "typing", conversation: conversationId })) {
    lastTyped = now;
  }
});

mentionPicker(textarea, () => JSON.parse(document.getElementById("conversation-members").textContent));
document.addEventListener("visibilitychange", markRead);

quietly(() => {
  for (const item of log.querySelectorAll("li.chat-message")) enhance(item);
});

// Open where the member left off: at the first new message, or at the latest.
const marker = document.getElementById("new-messages");
if (marker) scroller.scrollTop = marker.offsetTop - scroller.offsetTop - 8;
else follower.toEnd();
showReceipt();
