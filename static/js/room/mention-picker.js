// "@" in a composer (room chat and conversations alike) offers the members it may mention:
// those present in the room, or in the conversation. Arrow keys move through them, Enter
// or Tab takes one, Escape closes the list; a click or tap takes one too. The textarea
// keeps the focus throughout (aria-activedescendant), and a status line says how many
// there are, for screen readers.
//
// What is inserted is "@" and the display name, as rooms.mentions reads it.

import { element, lang } from "./dom.js";

const SHOWN_MAX = 6;
const QUERY_MAX = 40;
// An "@" starting a word, then what has been typed of the name up to the caret.
const TYPED = /(?:^|[\s(])@([^@\n]{0,40})$/u;

function folded(text) {
  return text.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLocaleLowerCase(lang);
}

/** `candidates()` gives [{id, name}] when asked (the people here now). */
export function mentionPicker(textarea, candidates) {
  const list = element("ul", "mention-list");
  list.id = `${textarea.id || "composer"}-mentions`;
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", gettext("Members to mention"));
  list.hidden = true;
  const count = element("p", "visually-hidden");
  count.setAttribute("role", "status");
  textarea.after(list, count);
  textarea.setAttribute("aria-autocomplete", "list");
  textarea.setAttribute("aria-controls", list.id);

  let start = -1; // where the "@" is
  let options = [];
  let active = 0;

  function close() {
    if (list.hidden) return;
    list.hidden = true;
    list.replaceChildren();
    textarea.removeAttribute("aria-activedescendant");
    count.textContent = "";
    options = [];
  }

  function highlight(index) {
    active = (index + options.length) % options.length;
    for (const [i, option] of [...list.children].entries()) {
      option.setAttribute("aria-selected", String(i === active));
    }
    textarea.setAttribute("aria-activedescendant", list.children[active].id);
    // Screen readers seldom read the active option of a textarea's list: say it.
    count.textContent = interpolate(
      gettext("%(name)s, %(position)s of %(count)s"),
      { name: options[active].name, position: active + 1, count: options.length },
      true,
    );
  }

  function choose(index) {
    // The caret may have moved without typing (arrows, Home, a click): only the "@" right
    // before it is replaced.
    const typed = TYPED.exec(textarea.value.slice(0, textarea.selectionStart));
    if (!typed || typed.index + typed[0].lastIndexOf("@") !== start) {
      close();
      return;
    }
    const member = options[index];
    const before = textarea.value.slice(0, start);
    const after = textarea.value.slice(textarea.selectionStart);
    const inserted = `@${member.name} `;
    textarea.value = before + inserted + after.replace(/^ /, "");
    const caret = before.length + inserted.length;
    textarea.setSelectionRange(caret, caret);
    close();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function update() {
    const typed = TYPED.exec(textarea.value.slice(0, textarea.selectionStart));
    if (!typed || typed[1].length > QUERY_MAX) {
      close();
      return;
    }
    start = typed.index + typed[0].lastIndexOf("@");
    const query = folded(typed[1]);
    const seen = new Set();
    options = candidates()
      .filter((member) => {
        if (seen.has(member.id) || !member.name) return false;
        seen.add(member.id);
        const name = folded(member.name);
        return name.startsWith(query) || name.split(/\s+/).some((word) => word.startsWith(query));
      })
      .sort((a, b) => a.name.localeCompare(b.name, lang))
      .slice(0, SHOWN_MAX);
    if (!options.length) {
      close();
      return;
    }
    list.replaceChildren(...options.map((member, i) => {
      const option = element("li", "mention-option", member.name);
      option.id = `${list.id}-${member.id}`;
      option.setAttribute("role", "option");
      // Keep the focus in the textarea: the click chooses, it does not move the caret.
      option.addEventListener("mousedown", (event) => event.preventDefault());
      option.addEventListener("click", () => choose(i));
      return option;
    }));
    list.hidden = false;
    highlight(0);
    count.textContent = interpolate(
      ngettext("%(count)s member to mention: arrows to choose, Enter to take.",
        "%(count)s members to mention: arrows to choose, Enter to take.", options.length),
      { count: options.length },
      true,
    );
  }

  textarea.addEventListener("input", update);
  textarea.addEventListener("click", update);
  textarea.addEventListener("keyup", (event) => {
    if (["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) update();
  });
  textarea.addEventListener("blur", close);
  // Before the composer's own keys (Enter sends): listeners on the target in the capture
  // phase run first.
  textarea.addEventListener("keydown", (event) => {
    if (list.hidden || event.isComposing) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      highlight(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter" || event.key === "Tab") {
      choose(active);
    } else if (event.key === "Escape") {
      close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
  }, { capture: true });
}
