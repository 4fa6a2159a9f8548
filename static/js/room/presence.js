// Who is here: the presence list (kept in name order, as the server orders it), each
// member's status and, in the cafeteria, table; and my own status picker.

import { serverNow } from "../clock.js";
import { element, fill, setSince } from "./dom.js";
import { isCafeteria, live, send } from "./live.js";
import { moderationTools } from "./moderation.js";

// How often the "since" times are written again: a page open past midnight.
const SINCE_REFRESH_MS = 5 * 60_000;

const presenceList = document.getElementById("presence");
const statusSelect = document.getElementById("my-status");
const tableOf = new Map(); // user id -> the table they sit at here, or null
// user id -> their item in the list: a crowd of thousands is looked up, not searched.
const itemOf = new Map();

function statusLabel(value) {
  return statusSelect.querySelector(`option[value="${value}"]`)?.textContent || value;
}

function presenceItem(id) {
  return itemOf.get(Number(id));
}

// The server's order (rooms.presence, members.search.normalise): by name in lower case and
// without accents, then by id, so that "Úrsula" comes before "Zoe". The same key as the
// server's for Latin-script names; in some other scripts (and for "ß") an item may sit a
// place or two off the server's order.
function sortKey(name) {
  return name.toLowerCase().normalize("NFKD").replace(/\p{M}/gu, "");
}

function keyOf(item) {
  item.dataset.sortKey ??= sortKey(item.querySelector(".presence-name").textContent);
  return item.dataset.sortKey;
}

// The item a new entry goes before (null: the end), found by halves in the ordered list.
function placeFor(key, id) {
  const items = presenceList.children;
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    const other = items[middle];
    const otherKey = keyOf(other);
    if (otherKey < key || (otherKey === key && Number(other.dataset.userId) < id)) low = middle + 1;
    else high = middle;
  }
  return items[low] || null;
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

// The server batches presence changes (one update a second) and does not echo a socket's own
// status change back to it; but a batch read just before that change (leaving a table, say)
// still carries the old status and may arrive after it. For this long after changing it
// here, my own status is the one I chose.
const OWN_CHANGE_SETTLE_MS = 3000;
let ownChangeAt = 0;

function upsertMember(member) {
  if (member.id === live.me.id && Date.now() - ownChangeAt < OWN_CHANGE_SETTLE_MS) {
    member = { ...member, status: statusSelect.dataset.current };
  }
  let item = presenceItem(member.id);
  const key = sortKey(member.name);
  if (item && keyOf(item) !== key) {
    // Renamed: their place in the list moves, and a focused control in it stays focused.
    const focused = item.contains(document.activeElement) ? document.activeElement : null;
    item.remove();
    item.dataset.sortKey = key;
    presenceList.insertBefore(item, placeFor(key, member.id));
    focused?.focus();
  } else if (!item) {
    item = buildPresenceItem(member);
    item.dataset.sortKey = key;
    itemOf.set(member.id, item);
    presenceList.insertBefore(item, placeFor(key, member.id));
  }
  item.dataset.status = member.status;
  item.querySelector(".presence-name").textContent = member.name;
  item.querySelector(".presence-status").textContent = statusLabel(member.status);
  setSince(item.querySelector(".presence-since time"), member.since);
  showTable(item, member.id, member.table ?? null);
  moderationTools(item, member);
  // Another tab of mine changed my status.
  if (member.id === live.me.id) statusSelect.value = statusSelect.dataset.current = member.status;
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
  itemOf.delete(Number(id));
  if (item.contains(document.activeElement)) presenceList.focus();
  item.remove();
}

export function replacePresence(members) {
  const keep = new Set(members.map((member) => member.id));
  for (const item of [...presenceList.children]) {
    if (!keep.has(Number(item.dataset.userId))) removeMember(item.dataset.userId);
  }
  members.forEach(upsertMember);
}

export function updatePresence(frame) {
  (frame.left || []).forEach(removeMember);
  (frame.members || []).forEach(upsertMember);
}

/** Who is here now, [{id, name}], in name order. */
export function presentMembers() {
  return [...presenceList.children].map((item) => ({
    id: Number(item.dataset.userId),
    name: item.querySelector(".presence-name").textContent,
  }));
}

export function myStatus() {
  return statusSelect.value;
}

export function changeStatus(value) {
  if (!send({ type: "presence.status", status: value })) {
    statusSelect.value = statusSelect.dataset.current;
    return;
  }
  statusSelect.value = statusSelect.dataset.current = value;
  ownChangeAt = Date.now();
  // The server tells everyone else; this connection gets no update for its own change.
  const mine = presenceItem(live.me.id);
  if (mine) {
    upsertMember({
      id: live.me.id,
      name: mine.querySelector(".presence-name").textContent,
      status: value,
      since: new Date(serverNow()).toISOString(),
      table: tableOf.get(live.me.id) ?? null,
    });
  }
}

// Ours at once; the server's presence update says the same a moment later.
export function setMyTable(table) {
  const mine = presenceItem(live.me.id);
  if (mine) showTable(mine, live.me.id, table);
  else tableOf.set(live.me.id, table);
}

/** Table number -> the names of those sitting there, in the list's (name) order. */
export function seatedAtTables() {
  const seated = new Map();
  for (const item of presenceList.children) {
    const table = tableOf.get(Number(item.dataset.userId));
    if (table === null || table === undefined) continue;
    if (!seated.has(table)) seated.set(table, []);
    seated.get(table).push(item.querySelector(".presence-name").textContent);
  }
  return seated;
}

let welcomedBefore = false;

/** After every `hello`: my status as the server has it, and the picker usable. A dropped
 * connection's presence went with it, so the server greets a reconnection with the default
 * status ("working") unless another tab of mine kept one: then the status this page last
 * showed (chosen here, or heard from another tab) still holds, and goes out again. */
export function presenceConnected(status) {
  const shown = statusSelect.dataset.current;
  const lost = welcomedBefore && status === "working" && shown && shown !== status;
  welcomedBefore = true;
  statusSelect.value = statusSelect.dataset.current = status;
  statusSelect.disabled = false;
  if (lost) changeStatus(shown);
}

export function presenceEnded() {
  statusSelect.disabled = true;
  // Who was here when the connection ended is no longer who is here: the list goes.
  itemOf.clear();
  presenceList.replaceChildren(
    element("li", "presence-gone muted", gettext("You are not in the room any more.")),
  );
}

export function setUpPresence() {
  // The list the server rendered with the page, until `hello` replaces it.
  for (const item of presenceList.children) itemOf.set(Number(item.dataset.userId), item);
  statusSelect.addEventListener("change", () => changeStatus(statusSelect.value));
  presenceList.tabIndex = -1;
  // A page open past midnight: "since 23:10" becomes yesterday's.
  setInterval(() => {
    for (const time of presenceList.querySelectorAll(".presence-since time")) setSince(time, time.dateTime);
  }, SINCE_REFRESH_MS);
}
