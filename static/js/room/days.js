// Day separators in a chat log (room chat and conversations alike): a line with the day's
// name wherever the day changes between two messages, in the reader's zone. The server
// draws them on the page; this keeps them right as messages come in, older pages load or
// pending messages are confirmed, touching only the lines that change (the log is a live
// region: a separator drawn again would be read out again).

import { element, inPageZone, lang } from "./dom.js";

export function daySeparators(log, timeZone) {
  // As the server writes them ("domingo 6 de diciembre", "Sunday 6 December"): the site's
  // English puts the day first, and neither language has a comma after the weekday.
  const zone = timeZone || undefined;
  const format = inPageZone(
    { weekday: "long", day: "numeric", month: "long" }, lang === "en" ? "en-GB" : lang, zone,
  );
  const name = (when) => format.formatToParts(when)
    .map((part) => (part.type === "literal" ? part.value.replace(",", "") : part.value))
    .join("");
  const key = inPageZone({ year: "numeric", month: "2-digit", day: "2-digit" }, "en-CA", zone);
  // Each message's day, worked out once: every message that comes in runs `sync` over the
  // whole log, and formatting thousands of dates each time made a room left open all day
  // slower with every message (25 ms a message at 2,000).
  const days = new WeakMap(); // message item -> {day, when}, or null (the "new messages" marker)
  const dayOf = (node) => {
    if (!days.has(node)) {
      const time = node.querySelector(".message-meta time[datetime]");
      days.set(node, time ? { day: key.format(new Date(time.dateTime)), when: time.dateTime } : null);
    }
    return days.get(node);
  };

  return function sync() {
    let previous = null; // the day of the message before
    let separator = null; // a separator met since that message, still to be judged
    for (const node of [...log.children]) {
      if (node.classList.contains("day-separator")) {
        separator?.remove(); // two in a row: the first has nothing under it
        separator = node;
        continue;
      }
      const dated = dayOf(node);
      if (!dated) continue; // the "new messages" marker
      const day = dated.day;
      if (day === previous) {
        separator?.remove();
      } else if (!separator || separator.dataset.day !== day) {
        separator?.remove();
        const line = element("li", "day-separator", name(new Date(dated.when)));
        line.dataset.day = day;
        // Before the "new messages" marker when there is one just above.
        const above = node.previousElementSibling;
        log.insertBefore(line, above?.classList.contains("new-marker") ? above : node);
      }
      separator = null;
      previous = day;
    }
    separator?.remove();
  };
}
