// A room's live side (docs/websocket-protocol.md, v1): presence, chat, moderation, calls,
// reconnection. Everything from the server is shown with textContent (links built as
// elements), never parsed as HTML. Strings come from Django's JavaScript catalogue, whose
// `gettext` the page loads before this module.

// call.js by the hashed URL the page gives: a static import would name the unhashed file,
// which a browser may still hold in its cache from before a deploy.
const { Call, callsSupported, screenSharingSupported } = await import(
  document.getElementById("room").dataset.callModule
);

const PROTOCOL_VERSION = 1;
const PING_EVERY_MS = 20_000;
const MAX_BACKOFF_MS = 30_000;
const PAGE_SIZE = 50;
const MUTE_MINUTES = 15;
// Close codes the server uses to send someone away on purpose: reconnecting would only be
// refused again, so these end the page's live side.
const KICK_CODES = { min: 4000, max: 4099, loggedOut: 4000 };
let leavingPage = false;
addEventListener("beforeunload", () => {
  leavingPage = true;
});
const LINK_REL = "noopener noreferrer nofollow";
const URL_PATTERN = /https?:\/\/[^\s<>"]+/g;
// Punctuation that usually ends the sentence rather than the address.
const URL_TRAILING = /[.,;:!?'")\]]+$/;
// Refusals of `call.join`: the seat was not given, so the devices are let go.
const SEAT_ERRORS = new Set(["call_full", "already_in_call", "no_table", "blocked_at_table"]);
// Signalling that lost a race with someone leaving: nothing for a person to do about it.
const QUIET_CALL_ERRORS = new Set(["not_in_call", "no_peer"]);
const CALL_ERRORS = new Set([...SEAT_ERRORS, ...QUIET_CALL_ERRORS, "sdp_too_large"]);

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
const callSection = document.getElementById("call");
const callSetup = document.getElementById("call-setup");
const joinButton = document.getElementById("call-join");
const callControls = document.getElementById("call-controls");
const muteButton = document.getElementById("call-mute");
const cameraButton = document.getElementById("call-camera");
const screenButton = document.getElementById("call-screen");
const leaveButton = document.getElementById("call-leave");
const callStatus = document.getElementById("call-status");
const tiles = document.getElementById("call-tiles");
const tablesList = document.getElementById("call-tables"); // the cafeteria's only
const noTables = document.getElementById("call-no-tables");
const isCafeteria = root.dataset.roomKind === "cafeteria";
// Known only when the server puts it on the page; otherwise a full table answers call_full.
const callMax = Number(root.dataset.callMax) || null;
const lang = document.documentElement.lang || undefined;
const clock = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const fullDate = new Intl.DateTimeFormat(lang, { dateStyle: "full", timeStyle: "short" });

const rendered = new Set(
  [...log.querySelectorAll("li[data-id]")].map((item) => Number(item.dataset.id)),
);
const pending = new Map(); // client_id -> {text, item}
const names = new Map(); // user id -> name, for moderation feedback after someone left
const tableOf = new Map(); // user id -> the table they sit at here, or null
// history.page does not say what it answers; the server handles one frame at a time per
// connection, so pages come back in the order they were asked for.
let pageRequests = [];
let lastId = Math.max(0, ...rendered);
let hasOlder = rendered.size >= PAGE_SIZE;
let loadingOlder = false;
let me = { id: Number(root.dataset.youId), staff: false };
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
  say(gettext("Not connected: try again in a moment."));
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
  const author = message.author ? message.author.name : gettext("Former member");
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
    body.textContent = gettext("This message was deleted.");
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
    edited = element("span", "message-edited", gettext("(edited)"));
    meta.append(" ", edited);
  }
  const mentioned = (message.mentions || []).includes(me.id);
  item.classList.toggle("mentions-me", mentioned);
  if (mentioned && !item.querySelector(".mention-note")) {
    meta.append(element("span", "mention-note visually-hidden", ` ${gettext("(mentions you)")}`));
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
  entry.item.querySelector(".message-state").textContent = gettext("delivered");
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
  const actions = element("p", "message-actions");
  if (mine) actions.append(button(gettext("Edit"), () => startEdit(item), "button-small edit"));
  if (mine || me.staff) {
    actions.append(button(gettext("Delete"), () => confirmDelete(item), "button-small delete"));
  }
  // Someone else's message (not a former member's) can be reported to staff, on a page
  // of its own: a link, so it works from the keyboard and without this script's state.
  if (!mine && item.dataset.authorId && root.dataset.reportUrl) {
    const report = element("a", "report", gettext("Report"));
    report.href = root.dataset.reportUrl.replace("/0/", `/${item.dataset.id}/`);
    actions.append(report);
  }
  if (actions.children.length) item.append(actions);
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
  editor.setAttribute("aria-label", gettext("Edit your message"));
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
  const no = button(gettext("Cancel"), restore, "button-small button-ghost");
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
  confirmStep(actions, gettext("Delete this message?"), gettext("Yes, delete"), () => {
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
  const since = element("span", "presence-since", `${gettext("since")} `);
  since.append(document.createElement("time"));
  const table = element("span", "presence-table");
  table.hidden = true;
  item.append(element("span", "presence-name"), " ", element("span", "presence-status"), " ", since, " ", table);
  return item;
}

function moderationTools(item, member) {
  if (!me.staff || member.id === me.id || item.querySelector(".presence-actions")) return;
  const tools = element("span", "presence-actions");
  tools.setAttribute("role", "group");
  tools.setAttribute("aria-label", fill(gettext("Moderate {name}"), { name: member.name }));
  const removeButton = button(gettext("Remove from room"), () => {
    confirmStep(tools, fill(gettext("Remove {name} from this room?"), { name: member.name }), gettext("Yes, remove"), () => {
      send({ type: "member.remove", user_id: member.id });
    }, removeButton);
  }, "button-small button-danger");
  tools.append(
    button(gettext("Mute 15 min"), () => send({ type: "member.mute", user_id: member.id, minutes: MUTE_MINUTES })),
    button(gettext("Unmute"), () => send({ type: "member.mute", user_id: member.id, minutes: 0 })),
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
  showTable(item, member.id, member.table ?? null);
  moderationTools(item, member);
  // Another tab of mine changed my status.
  if (member.id === me.id) statusSelect.value = statusSelect.dataset.current = member.status;
}

// Only the cafeteria has several tables; in a meeting room the status says "In a call".
function showTable(item, id, table) {
  tableOf.set(id, table);
  let label = item.querySelector(".presence-table");
  if (!label) {
    label = element("span", "presence-table");
    item.append(" ", label);
  }
  label.hidden = !isCafeteria || table === null;
  label.textContent = label.hidden ? "" : fill(gettext("at table {number}"), { number: table });
}

function removeMember(id) {
  tableOf.delete(Number(id));
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
  const message = { mute: gettext("{name} is muted for 15 minutes."), unmute: gettext("{name} can write again."), remove: gettext("{name} was removed from the room.") }[frame.action];
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
    mutedNote.textContent = fill(gettext("You are muted in this room until {time}."), { time: clock.format(end) });
    // The server only says when a mute starts or is lifted early, not when it runs out.
    muteTimer = setTimeout(() => setMuted(null), end - new Date());
  } else if (wasMuted) {
    say(gettext("You can write again."));
  }
}

function endLive(code) {
  ended = true;
  say(farewell?.message || gettext("You are no longer connected to this room."));
  textarea.disabled = sendButton.disabled = statusSelect.disabled = true;
  for (const tools of root.querySelectorAll(".message-actions, .presence-actions, .message-editor")) {
    tools.remove();
  }
  showOlderButton();
  call.end();
  joinButton.disabled = true;
  // Logged out: the page itself now leads to the login page (unless this page is already
  // going somewhere, e.g. it is the one that logged out: a reload would cancel that).
  if (code === KICK_CODES.loggedOut) {
    setTimeout(() => {
      if (!leavingPage) location.reload();
    }, 1500);
  }
}

// Calls ---------------------------------------------------------------------------------
// The call at this room's table (a meeting room has one; the cafeteria has several):
// call.js owns the connections, this part draws tiles, controls and tables.

const call = new Call(send);
let statusBeforeCall = null; // restored on leaving, unless the person changed it meanwhile
let joinNote = ""; // said with "You joined", e.g. that the camera could not be used

function sayCall(message) {
  callStatus.textContent = message;
}

function initials(name) {
  const words = name.split(/\s+/).filter((word) => /^[\p{L}\p{N}]/u.test(word));
  return words.slice(0, 2).map((word) => word[0]).join("").toUpperCase() || "?";
}

function deviceProblem(error) {
  switch (error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return gettext("Your browser did not allow the microphone or camera. Allow them for this site in the address bar, then try again.");
    case "NotFoundError":
    case "OverconstrainedError":
      return gettext("No microphone or camera was found. Connect one, then try again.");
    case "NotReadableError":
    case "AbortError":
      return gettext("Your microphone or camera is in use by another application. Close it, then try again.");
    default:
      return gettext("Your microphone or camera could not be started.");
  }
}

async function joinCall(table) {
  if (!callsSupported) {
    sayCall(gettext("This browser cannot make calls on this page."));
    return;
  }
  if (socket?.readyState !== WebSocket.OPEN) {
    sayCall(gettext("Not connected: try again in a moment."));
    return;
  }
  const video = callSection.querySelector("input[name=call-media]:checked").value === "video";
  joinNote = "";
  sayCall(gettext("Asking your browser for the microphone…"));
  try {
    await call.join({ table, video });
  } catch (error) {
    // A missing or busy camera should not keep someone out of a conversation.
    const cameraOnly = video && ["NotFoundError", "NotReadableError", "OverconstrainedError"].includes(error.name);
    if (!cameraOnly) {
      sayCall(deviceProblem(error));
      return;
    }
    try {
      await call.join({ table, video: false });
      joinNote = gettext("No camera could be used: you joined with the microphone only.");
    } catch (again) {
      sayCall(deviceProblem(again));
      return;
    }
  }
  if (call.state === "joining") sayCall(gettext("Joining…"));
}

function onCallJoined(frame) {
  const rejoined = call.state === "rejoining";
  call.joined(frame);
  if (call.state !== "in") return;
  setMyTable(call.table);
  renderTables();
  let message = isCafeteria ? fill(gettext("You sit at table {number}."), { number: call.table }) : gettext("You joined the call.");
  if (rejoined) message = gettext("You are back in the call.");
  sayCall(joinNote ? `${message} ${joinNote}` : message);
  joinNote = "";
  if (statusSelect.value !== "call") {
    statusBeforeCall ??= statusSelect.value;
    changeStatus("call");
  }
}

function onCallError(frame) {
  const seeking = call.state === "joining" || call.state === "rejoining";
  if (QUIET_CALL_ERRORS.has(frame.code)) return;
  // Everyone left the table while we were away: it is gone, so start a new one.
  if (call.state === "rejoining" && frame.code === "no_table" && isCafeteria) {
    call.retry(null);
    return;
  }
  if (seeking && SEAT_ERRORS.has(frame.code)) call.end();
  sayCall(frame.message);
}

// After every `hello`: a first connection makes calls possible, a later one means the socket
// came back after a blip, and a call in progress must find its seat again.
function callConnected() {
  joinButton.disabled = !callsSupported;
  renderTables();
  if (call.state === "idle") return;
  sayCall(gettext("Connection lost. Rejoining the call…"));
  call.rejoin();
  if (statusSelect.value !== "call") changeStatus("call");
}

// Ours at once; the server's presence update says the same a moment later.
function setMyTable(table) {
  const mine = presenceItem(me.id);
  if (mine) showTable(mine, me.id, table);
  else tableOf.set(me.id, table);
}

function leaveCall() {
  call.leave();
  sayCall(isCafeteria ? gettext("You left the table.") : gettext("You left the call."));
}

// Tiles ---

function tileFor(peerId) {
  return tiles.querySelector(`li[data-peer="${peerId}"]`);
}

function buildTile(user, mine) {
  const tile = element("li", "call-tile");
  const video = document.createElement("video");
  video.autoplay = true;
  video.playsInline = true;
  // Our own voice back would echo; our picture is only a mirror.
  video.muted = mine;
  const face = element("span", `call-initials avatar avatar-hue-${user.id % 8}`, initials(user.name));
  face.setAttribute("aria-hidden", "true");
  const caption = element("p", "call-caption");
  const name = mine ? fill(gettext("{name} (you)"), { name: user.name }) : user.name;
  caption.append(
    element("span", "call-name", name),
    element("span", "call-muted", gettext("muted")),
    element("span", "call-sharing", gettext("sharing the screen")),
    element("span", "call-connecting", gettext("connecting…")),
  );
  tile.append(video, face, caption);
  return tile;
}

function updateTile(tile, { audio, video, screen, state, stream }) {
  const showing = video || screen;
  tile.dataset.audio = audio ? "on" : "off";
  tile.dataset.video = showing ? "on" : "off";
  tile.dataset.state = state;
  tile.querySelector(".call-muted").hidden = audio;
  tile.querySelector(".call-sharing").hidden = !screen;
  tile.querySelector(".call-connecting").hidden = state === "connected";
  tile.querySelector(".call-initials").hidden = showing;
  // Hidden, the element still plays the sound of a member who has no camera on.
  const player = tile.querySelector("video");
  player.hidden = !showing;
  if (player.srcObject !== stream) player.srcObject = stream;
}

function showPeer(peer) {
  let tile = tileFor(peer.id);
  if (!tile) {
    tile = buildTile(peer.user, false);
    tile.dataset.peer = peer.id;
    tile.dataset.userId = peer.user.id;
    tiles.append(tile);
  }
  updateTile(tile, peer);
}

let selfStream = null;

function showSelf() {
  let tile = tiles.querySelector("li[data-self]");
  if (call.state === "idle") {
    tile?.remove();
    selfStream = null;
    return;
  }
  if (!tile) {
    tile = buildTile({ id: me.id, name: root.dataset.you || "" }, true);
    tile.dataset.self = "";
    tiles.prepend(tile);
  }
  const track = call.outgoingVideo;
  if (selfStream?.getVideoTracks()[0] !== track) selfStream = track ? new MediaStream([track]) : null;
  updateTile(tile, { ...call.media, state: "connected", stream: selfStream });
}

function showControls() {
  muteButton.setAttribute("aria-pressed", String(call.muted));
  cameraButton.setAttribute("aria-pressed", String(Boolean(call.camera)));
  screenButton.setAttribute("aria-pressed", String(Boolean(call.screen)));
  showSelf();
}

function showCallState(state) {
  const idle = state === "idle";
  const focused = document.activeElement;
  const focusInCall = callSection.contains(focused) || focused === document.body;
  callSetup.hidden = !idle;
  callControls.hidden = idle || state === "starting";
  tiles.hidden = idle || state === "starting";
  if (idle) {
    tiles.replaceChildren();
    selfStream = null;
    setMyTable(null);
    const connected = socket?.readyState === WebSocket.OPEN;
    if (connected && statusBeforeCall && statusSelect.value === "call") changeStatus(statusBeforeCall);
    statusBeforeCall = null;
    // The control that was used is gone (or still disabled while its click finishes).
    if (focusInCall) setTimeout(() => joinButton.focus());
  } else if (state === "joining" && focusInCall) {
    // The button that was pressed is gone; the first control takes its place.
    muteButton.focus();
  }
  showControls();
  renderTables();
}

call.addEventListener("state", (event) => showCallState(event.detail.state));
call.addEventListener("local", showControls);
call.addEventListener("peer", (event) => showPeer(event.detail));
call.addEventListener("peerleave", (event) => {
  const { peer, reason } = event.detail;
  const tile = tileFor(peer.id);
  if (tile?.contains(document.activeElement)) leaveButton.focus();
  tile?.remove();
  if (reason === "left") sayCall(fill(gettext("{name} left."), { name: peer.user.name }));
  if (reason === "dropped") sayCall(fill(gettext("The connection with {name} was lost."), { name: peer.user.name }));
});

// One control at a time: each of these asks the browser for something and may wait on a prompt.
async function busy(control, action) {
  control.disabled = true;
  try {
    await action();
  } finally {
    control.disabled = false;
    showControls();
  }
}

joinButton.addEventListener("click", () => busy(joinButton, () => joinCall(null)));
muteButton.addEventListener("click", () => call.setMuted(!call.muted));
leaveButton.addEventListener("click", leaveCall);
cameraButton.addEventListener("click", () =>
  busy(cameraButton, () =>
    call.setCamera(!call.camera).catch((error) => {
      sayCall(`${gettext("The camera could not be started.")} ${deviceProblem(error)}`);
    }),
  ),
);
screenButton.hidden = !screenSharingSupported;
screenButton.addEventListener("click", () =>
  busy(screenButton, () =>
    (call.screen ? call.stopSharing() : call.shareScreen()).catch(() => {
      // Most often the person closed the browser's picker: say so quietly.
      sayCall(gettext("Screen sharing did not start."));
    }),
  ),
);

// Tables (cafeteria) ---

function tableItem(number) {
  const item = element("li");
  item.dataset.table = number;
  item.append(
    element("span", "call-table-name", fill(gettext("Table {number}"), { number })),
    element("span", "call-table-people"),
    element("span", "call-table-seats"),
  );
  const sit = button(gettext("Sit here"), () => busy(sit, () => joinCall(number)), "button-small call-sit");
  sit.setAttribute("aria-label", fill(gettext("Sit here, table {number}"), { number }));
  item.append(sit, element("span", "call-table-note"));
  return item;
}

function renderTables() {
  if (!tablesList) return;
  const seated = new Map(); // table number -> names, by name as the presence list is
  for (const item of presenceList.children) {
    const table = tableOf.get(Number(item.dataset.userId));
    if (table === null || table === undefined) continue;
    if (!seated.has(table)) seated.set(table, []);
    seated.get(table).push(item.querySelector(".presence-name").textContent);
  }
  const mine = call.state === "in" ? call.table : null;
  for (const item of [...tablesList.children]) {
    if (seated.has(Number(item.dataset.table))) continue;
    if (item.contains(document.activeElement)) joinButton.focus();
    item.remove();
  }
  for (const number of [...seated.keys()].sort((a, b) => a - b)) {
    let item = tablesList.querySelector(`li[data-table="${number}"]`);
    if (!item) {
      item = tableItem(number);
      const after = [...tablesList.children].find((other) => Number(other.dataset.table) > number);
      tablesList.insertBefore(item, after || null);
    }
    const people = seated.get(number);
    const full = callMax !== null && people.length >= callMax;
    item.querySelector(".call-table-people").textContent = people.join(", ");
    const seats = item.querySelector(".call-table-seats");
    seats.hidden = callMax === null;
    seats.textContent = callMax === null ? "" : fill(gettext("{count} of {max} seats taken"), { count: people.length, max: callMax });
    const note = item.querySelector(".call-table-note");
    note.textContent = number === mine ? gettext("You sit here") : full ? gettext("Full") : "";
    note.hidden = !note.textContent;
    const sit = item.querySelector(".call-sit");
    // One table at a time: leaving comes before sitting elsewhere.
    sit.hidden = call.state !== "idle" || full;
    sit.disabled = joinButton.disabled;
  }
  noTables.hidden = seated.size > 0;
}

if (!callsSupported) sayCall(gettext("This browser cannot make calls on this page."));

// The socket ----------------------------------------------------------------------------

const handlers = {
  hello(frame) {
    if (frame.v !== PROTOCOL_VERSION) {
      say(gettext("This page is out of date. Please reload it."));
      socket.close();
      return;
    }
    backoff = 1000;
    say(gettext("Connected."));
    me = { id: frame.you.id, staff: Boolean(frame.you.staff) };
    statusSelect.value = statusSelect.dataset.current = frame.you.status;
    statusSelect.disabled = false;
    olderButton.disabled = false;
    setMuted(frame.you.muted_until);
    replacePresence(frame.presence);
    callConnected();
    for (const item of log.querySelectorAll("li[data-id]")) addActions(item);
    const catchUpFrom = lastId;
    frame.history.forEach(addMessage);
    requestSince(catchUpFrom);
    // Resend what never got its ack; the server stores each client_id once.
    for (const [clientId, entry] of pending) sendChat(clientId, entry.text);
  },
  "presence.snapshot": (frame) => {
    replacePresence(frame.members);
    renderTables();
  },
  "presence.update": (frame) => {
    (frame.left || []).forEach(removeMember);
    (frame.members || []).forEach(upsertMember);
    renderTables();
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
  // An invitation from the server, e.g. the event held here ended: carry on elsewhere.
  "room.notice": (frame) => {
    const notice = document.getElementById("room-notice");
    notice.querySelector(".room-notice-text").textContent = frame.message;
    notice.querySelector(".room-notice-link").href = frame.url;
    notice.hidden = false;
  },
  "call.joined": onCallJoined,
  "call.peer_joined": (frame) => {
    if (call.state !== "in") return;
    call.peerJoined(frame);
    sayCall(fill(gettext("{name} joined."), { name: frame.user.name }));
  },
  "call.peer_left": (frame) => call.peerLeft(frame),
  "call.peer_media": (frame) => call.peerMedia(frame),
  "call.offer": (frame) => call.offer(frame),
  "call.answer": (frame) => call.answer(frame),
  "call.ice": (frame) => call.ice(frame),
  // Leaving does not wait for its own "left": the page let go of the call when asked.
  "call.left": (frame) => {
    if (call.state === "idle") return;
    if (frame.reason === "replaced") {
      // Another tab of ours took the seat.
      call.end();
      sayCall(gettext("You joined this call from another tab or window, so this one left it."));
    } else if (frame.reason === "dropped") {
      sayCall(gettext("Connection lost. Rejoining the call…"));
      call.rejoin();
    }
  },
  error: (frame) => {
    if (CALL_ERRORS.has(frame.code)) {
      onCallError(frame);
      return;
    }
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
    say(gettext("Connection lost. Reconnecting…"));
    if (call.state !== "idle") sayCall(gettext("Connection lost. Rejoining the call…"));
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
  item.append(element("p", "message-state", gettext("sending…")));
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

function changeStatus(value) {
  if (!send({ type: "presence.status", status: value })) {
    statusSelect.value = statusSelect.dataset.current;
    return;
  }
  statusSelect.value = statusSelect.dataset.current = value;
  // The server tells everyone else; this connection gets no update for its own change.
  const mine = presenceItem(me.id);
  if (mine) {
    upsertMember({
      id: me.id,
      name: mine.querySelector(".presence-name").textContent,
      status: value,
      since: new Date().toISOString(),
      table: tableOf.get(me.id) ?? null,
    });
  }
}

statusSelect.addEventListener("change", () => changeStatus(statusSelect.value));

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
