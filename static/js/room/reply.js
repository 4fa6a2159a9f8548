// Replying to a message, in room chat and conversations alike: the quote drawn above an
// answer, and the composer's "Replying to …" line with its way out.

import { element } from "./dom.js";

const PREVIEW_LENGTH = 80;
const QUOTE_LENGTH = 140; // rooms/quotes.py's

/** The quote of an answered message ({author, text, deleted, hidden}) above its answer:
 * `hidden` when its author and the reader are on either side of a block (rooms/quotes.py). */
export function quoteBlock(answered) {
  const block = element("blockquote", "message-quote");
  if (answered.id) block.dataset.quotes = answered.id;
  if (answered.hidden) {
    block.append(element("em", "", gettext("A message you do not see.")));
    return block;
  }
  const author = element("span", "quote-author", answered.author ?? gettext("Former member"));
  block.append(
    author, " ", answered.deleted ? element("em", "", gettext("This message was deleted.")) : answered.text,
  );
  return block;
}

/** A quoted message was edited (`text`) or deleted (no `text`): its quotes above the answers
 * on the page say so at once, rather than keep what its author took back. A quote of a
 * message the reader does not see stays as it is. */
export function requote(log, id, text = null) {
  for (const block of log.querySelectorAll(`.message-quote[data-quotes="${id}"]`)) {
    const author = block.querySelector(".quote-author")?.textContent;
    if (author === undefined) continue;
    const quoted = { id, author, text: text?.slice(0, QUOTE_LENGTH) ?? "", deleted: text === null };
    block.replaceWith(quoteBlock(quoted));
  }
}

/** What a message on the page would quote of itself. */
export function quoteOf(item) {
  return {
    id: item.dataset.id,
    author: item.querySelector(".message-author")?.textContent,
    text: item.dataset.text || item.querySelector(".message-text")?.textContent || fileOf(item),
  };
}

/** A picture or file sent without words is quoted by its name, as the server quotes it. */
function fileOf(item) {
  const name = item.querySelector(".message-attachment")?.dataset.name;
  return name ? `📎 ${name}` : "";
}

/** The composer's reply state: `box` is its "Replying to …" line (hidden when not
 * replying), with a `.replying-text` and a `.replying-cancel` button; `field`, where there
 * is one, the form's hidden input that carries the answered id over HTTP. */
export class ReplyComposer {
  constructor(box, textarea, field = null) {
    this.box = box;
    this.textarea = textarea;
    this.field = field;
    this.id = null;
    box.querySelector(".replying-cancel").addEventListener("click", () => {
      this.cancel();
      textarea.focus();
    });
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.id && !event.defaultPrevented) this.cancel();
    });
  }

  start(item) {
    this.id = Number(item.dataset.id);
    if (this.field) this.field.value = this.id;
    const { author, text } = quoteOf(item);
    this.box.querySelector(".replying-text").textContent = interpolate(
      gettext("Replying to %(name)s: “%(text)s”"),
      { name: author, text: text.slice(0, PREVIEW_LENGTH) },
      true,
    );
    this.box.hidden = false;
    this.textarea.focus();
  }

  cancel() {
    this.id = null;
    if (this.field) this.field.value = "";
    this.box.hidden = true;
  }
}
