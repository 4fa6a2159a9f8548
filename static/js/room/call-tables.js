// The cafeteria's tables: one entry per table someone sits at, with who is there, the seats
// taken and a way to sit down. Drawn from the presence list, which says who sits where.

import { button, element, fill } from "./dom.js";
import { root } from "./live.js";
import { seatedAtTables } from "./presence.js";

const tablesList = document.getElementById("call-tables"); // the cafeteria's only
const noTables = document.getElementById("call-no-tables");
const joinButton = document.getElementById("call-join");
// Known only when the server puts it on the page; otherwise a full table answers call_full.
const callMax = Number(root.dataset.callMax) || null;

function tableItem(number, sitDown) {
  const item = element("li");
  item.dataset.table = number;
  item.append(
    element("span", "call-table-name", fill(gettext("Table {number}"), { number })),
    element("span", "call-table-people"),
    element("span", "call-table-seats"),
  );
  const sit = button(gettext("Sit here"), () => sitDown(number, sit), "button-small call-sit");
  sit.setAttribute("aria-label", fill(gettext("Sit here, table {number}"), { number }));
  item.append(sit, element("span", "call-table-note"));
  return item;
}

/**
 * `mine`: the table I sit at, or null; `canSit`: whether I may sit down now (one table at a
 * time); `sitDown(number, button)`: what a "Sit here" button does.
 */
export function renderTables({ mine, canSit, sitDown }) {
  if (!tablesList) return;
  const seated = seatedAtTables();
  for (const item of [...tablesList.children]) {
    if (seated.has(Number(item.dataset.table))) continue;
    if (item.contains(document.activeElement)) joinButton.focus();
    item.remove();
  }
  for (const number of [...seated.keys()].sort((a, b) => a - b)) {
    let item = tablesList.querySelector(`li[data-table="${number}"]`);
    if (!item) {
      item = tableItem(number, sitDown);
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
    sit.hidden = !canSit || full;
    sit.disabled = joinButton.disabled;
  }
  noTables.hidden = seated.size > 0;
}
