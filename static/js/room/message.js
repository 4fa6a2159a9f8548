// One message of the chat log: how it is drawn, kept in line with the server's view of it
// (text, edit, deletion, mention), and what its author, staff and others can do with it
// (edit, delete, report).

import { button, confirmStep, describedByMessage, element, emptiedEditError, linkified, timeElement } from "./dom.js";
import { live, root, send } from "./live.js";
import { reactionBar, reactionsNewer, replaceReactionBar } from "./reactions.js";
import { quoteBlock } from "./reply.js";

// Open editors by message id: how to close each one once the server confirms the edit.
const editors = new Map();

export function messageItem(message) {
  const item = element("li");
  if (message.id) item.dataset.id = message.id;
  item.dataset.authorId = message.author ? message.author.id : "";
  const meta = element("p", "message-meta");
  const author = message.author ? message.author.name : gettext("Former member");
  meta.append(element("span", "message-author", author));
  // The team's messages say so: a member's chosen name cannot.
  if (message.author?.staff) meta.append(" ", element("span", "team-badge", gettext("Team")));
  meta.append(" ", timeElement(message.created_at));
  if (message.question) {
    item.classList.add("is-question");
    meta.append(" ", element("span", "message-question", gettext("Question")));
  }
  item.append(meta, element("p", "message-text"));
  updateMessage(item, message);
  return item;
}

// Used for new messages and to reconcile what changed while disconnected.
export function updateMessage(item, message) {
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
    item.querySelector(".message-reactions")?.remove();
    editors.delete(Number(item.dataset.id));
    body.hidden = false;
    return;
  }
  body.replaceChildren(linkified(message.text));
  if (message.reply_to && !item.querySelector(".message-quote")) {
    item.prepend(quoteBlock(message.reply_to));
  }
  if (message.edited_at && !edited) {
    edited = element("span", "message-edited", gettext("(edited)"));
    meta.append(" ", edited);
  }
  // History pages carry the reactions; a new message has none; an edit leaves them.
  if (message.reactions || !item.querySelector(".message-reactions")) {
    showReactions(item, message.reactions || [], message.reactions_version);
  }
  const mentioned = (message.mentions || []).includes(live.me.id);
  item.classList.toggle("mentions-me", mentioned);
  if (mentioned && !item.querySelector(".mention-note")) {
    meta.append(element("span", "mention-note visually-hidden", ` ${gettext("(mentions you)")}`));
  }
  addActions(item);
}

function isMine(item) {
  return Number(item.dataset.authorId) === live.me.id;
}

export function addActions(item) {
  if (live.ended || !item.dataset.id || "deleted" in item.dataset) return;
  if (item.querySelector(".message-actions")) return;
  const mine = isMine(item);
  const actions = element("p", "message-actions");
  // chat.js holds the composer: it hears this and quotes the message there.
  actions.append(button(gettext("Reply"), () => {
    item.dispatchEvent(new CustomEvent("chat-reply", { bubbles: true }));
  }, "button-small reply"));
  if (mine) actions.append(button(gettext("Edit"), () => startEdit(item), "button-small edit"));
  if (mine || live.me.deletes) {
    actions.append(button(gettext("Delete"), () => confirmDelete(item), "button-small delete"));
  }
  // Someone else's message (not a former member's) can be reported to staff, on a page
  // of its own: a link, so it works from the keyboard and without this script's state.
  const reportUrl = root.dataset.reportUrl;
  if (!mine && item.dataset.authorId && reportUrl) {
    const report = element("a", "report", gettext("Report"));
    report.href = reportUrl.replace("/0/", `/${item.dataset.id}/`);
    actions.append(report);
  }
  describedByMessage(item, actions);
  if (actions.children.length) item.append(actions);
}

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

  const emptied = emptiedEditError(editor, id, "edit-help");
  const close = () => {
    editors.delete(id);
    emptied.clear();
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
      if (!changed) {
        emptied.show();
        return;
      }
      if (editor.readOnly) return;
      // The editor stays open (read-only) until chat.edited or an error answers, so a
      // refused edit is not lost.
      if (send({ type: "chat.edit", id, text: changed })) editor.readOnly = true;
    }
  });
}

/** The server confirmed an edit: show it, and close the editor that was waiting for it. */
export function showEdited(item, message) {
  updateMessage(item, message);
  const editor = item.querySelector(".message-editor");
  if (editor?.readOnly) editors.get(message.id)?.();
}

// Errors do not say which frame they answer: any edit waiting for an answer may retry.
export function reopenEditors(log) {
  for (const editor of log.querySelectorAll(".message-editor")) editor.readOnly = false;
}

function confirmDelete(item) {
  const actions = item.querySelector(".message-actions");
  confirmStep(actions, gettext("Delete this message?"), gettext("Yes, delete"), () => {
    send({ type: "chat.delete", id: Number(item.dataset.id) });
  }, actions.querySelector(".delete"));
}

export function showDeleted(item) {
  const hadFocus = item.contains(document.activeElement);
  updateMessage(item, { deleted: true });
  if (hadFocus) {
    // The buttons are gone; keep keyboard users on the message rather than the page top.
    item.tabIndex = -1;
    item.focus();
  }
}

/** The message's reactions as the server now has them, before its actions, unless those
 * shown are newer (`version`: reactionsNewer). */
export function showReactions(item, reactions, version) {
  if ("deleted" in item.dataset || !item.dataset.id || !reactionsNewer(item, version)) return;
  const bar = reactionBar(reactions, live.me.id);
  const current = item.querySelector(".message-reactions");
  if (current) replaceReactionBar(current, bar);
  else item.querySelector(".message-text").after(bar);
}
