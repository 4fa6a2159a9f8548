// Small DOM helpers the room's modules share. Everything from the server goes on the page
// as textContent (links built as elements), never parsed as HTML.

import { serverNow } from "../clock.js";

const LINK_REL = "noopener noreferrer nofollow";
// No direction controls in an address: with them its text could be drawn in another order
// than the one it leads to (right-to-left override). Each link is also laid out on its own,
// left to right (`dir`), whatever controls the text around it holds.
const URL_PATTERN = /https?:\/\/[^\s<>"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;
// Punctuation that usually ends the sentence rather than the address.
const URL_TRAILING = /[.,;:!?'")\]]+$/;

export const lang = document.documentElement.lang || undefined;
// Times are in the member's profile zone (the page's data-time-zone), as the server writes
// them in lists and emails, whatever the device's zone.
const pageZone = document.querySelector("[data-time-zone]")?.dataset.timeZone || undefined;

export function inPageZone(options, locale = lang, timeZone = pageZone) {
  try {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone });
  } catch {
    return new Intl.DateTimeFormat(locale, options); // a zone this browser does not know
  }
}

const clock = inPageZone({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const fullDate = inPageZone({ dateStyle: "full", timeStyle: "short" });

// The catalogue's strings name their blanks ("{name}"), as the templates' strings do.
export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_match, key) => values[key] ?? "");
}

export function element(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined) node.textContent = content;
  return node;
}

/** A "Reload" button, beside a status that asks for one: the installed app has no browser
 * button to reload with. */
export function reloadButton() {
  return button(gettext("Reload"), () => location.reload());
}

// A message's Reply, Edit and Delete keep their short names; each is described by the
// message's author and time, so that a screen reader going through the buttons of a long
// log hears whose message each one acts on.
export function describedByMessage(item, actions) {
  const meta = item.querySelector(".message-meta");
  if (!meta || !item.dataset.id) return;
  meta.id ||= `message-meta-${item.dataset.id}`;
  for (const control of actions.querySelectorAll("button")) {
    control.setAttribute("aria-describedby", meta.id);
  }
}

export function button(label, onClick, className = "button-small") {
  const node = element("button", className, label);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

export function clockTime(date) {
  return clock.format(date);
}

export function setTime(timeElement, iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return;
  timeElement.dateTime = iso;
  timeElement.textContent = clock.format(when);
  timeElement.title = fullDate.format(when);
}

const dayKey = inPageZone({ year: "numeric", month: "2-digit", day: "2-digit" }, "en-CA");
// As the server writes it ("6 Dec, 08:17"): the site's English puts the day first.
const dayAndClock = inPageZone(
  { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" },
  lang === "en" ? "en-GB" : lang,
);

/** `setTime` for a moment that may be on an earlier day (in a room since yesterday): the
 * clock alone when it is today in the page's zone, the day too when not. "since 08:17"
 * read at 07:15 the next morning looked like a time still to come. */
export function setSince(timeElement, iso) {
  setTime(timeElement, iso);
  const when = new Date(timeElement.dateTime);
  if (dayKey.format(when) !== dayKey.format(new Date(serverNow()))) timeElement.textContent = dayAndClock.format(when);
}

export function timeElement(iso) {
  const node = document.createElement("time");
  setTime(node, iso);
  return node;
}

// Plain text with http(s) addresses as links, opening in a new tab (the conversation stays
// where it was); nothing in it is ever read as markup. core_tags.linkified on the server.
export function linkified(body) {
  const fragment = document.createDocumentFragment();
  let from = 0;
  for (const match of body.matchAll(URL_PATTERN)) {
    const url = match[0].replace(URL_TRAILING, "");
    fragment.append(body.slice(from, match.index));
    const link = element("a", "", url);
    link.href = url;
    link.dir = "ltr";
    link.rel = LINK_REL;
    link.target = "_blank";
    fragment.append(link);
    from = match.index + url.length;
  }
  fragment.append(body.slice(from));
  return fragment;
}

// Links the server rendered into the page get the same rel and target as the ones built here.
export function guardLinks(links) {
  for (const link of links) {
    link.rel = LINK_REL;
    link.target = "_blank";
  }
}

// A confirmation in place of the buttons, rather than window.confirm: it is part of the page,
// keyboard-reachable, translated and styled like the rest.
export function confirmStep(container, question, yesLabel, onYes, returnFocusTo) {
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

// A message's editor emptied of text: Enter is refused (the member deletes the message
// instead), said beside the editor, which stays open; the error goes once there is text.
// `help`: the id the editor is otherwise described by, if any. Returns `show` (call on an
// empty Enter) and `clear` (call when the editor closes).
export function emptiedEditError(editor, id, help = "") {
  const error = element("p", "message-editor-error", gettext("A message can't be empty: delete it instead."));
  error.id = `edit-error-${id}`;
  error.setAttribute("role", "alert");
  const describe = (...ids) => {
    const described = ids.filter(Boolean).join(" ");
    if (described) editor.setAttribute("aria-describedby", described);
    else editor.removeAttribute("aria-describedby");
  };
  const clear = () => {
    error.remove();
    editor.removeAttribute("aria-invalid");
    describe(help);
  };
  editor.addEventListener("input", () => {
    if (editor.value.trim()) clear();
  });
  const show = () => {
    editor.setAttribute("aria-invalid", "true");
    describe(help, error.id);
    editor.after(error);
  };
  return { show, clear };
}
