// A chat message's reactions, drawn the same way in rooms and conversations: one button per
// reaction given (pressed when it is mine, with its count), and a "React" menu with the
// small fixed set (rooms/reactions.py). The buttons carry `data-emoji`; the page listens for
// their clicks and sends the toggle over its socket.

import { element } from "./dom.js";

export const REACTIONS = ["👍", "❤️", "😂", "🎉", "🙏", "☕"];

function reactionButton(emoji, label, className) {
  const button = element("button", className, label);
  button.type = "button";
  button.dataset.emoji = emoji;
  return button;
}

/** The reactions group for `reactions` ([{emoji, members: [ids]}]), as `myId` sees them. */
export function reactionBar(reactions, myId) {
  const bar = element("div", "message-reactions");
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", gettext("Reactions"));
  for (const { emoji, members } of reactions) {
    const button = reactionButton(emoji, `${emoji} ${members.length}`, "reaction");
    button.setAttribute("aria-pressed", String(members.includes(myId)));
    bar.append(button);
  }
  const picker = element("details", "reaction-picker");
  picker.append(element("summary", "", gettext("React")));
  const choices = element("div", "reaction-choices");
  for (const emoji of REACTIONS) choices.append(reactionButton(emoji, emoji, "reaction-choice"));
  picker.append(choices);
  bar.append(picker);
  return bar;
}

// What identifies a control of a reactions group from one drawing to the next: the menu's
// button, or a reaction (given or offered) by its emoji. The server's page names the emoji
// in the button's value, the script's in data-emoji.
function controlKey(node) {
  if (node.matches("summary")) return "summary";
  return `${node.classList.contains("reaction") ? "reaction" : "choice"} ${node.dataset.emoji || node.value}`;
}

/** Whether reactions numbered `version` (Message.reactions_version) are as new as those the
 * message `item` shows, noting them as shown if so. Two changes' frames can arrive in either
 * order: the older counts are dropped. Without a number (a new message), they are drawn. */
export function reactionsNewer(item, version) {
  if (version === undefined) return true;
  if (version < Number(item.dataset.reactionsVersion || 0)) return false;
  item.dataset.reactionsVersion = String(version);
  return true;
}

/** Put `bar` in place of the reactions group `current`, its menu open or closed as it was.
 * Whoever was on one of its controls stays on the same one in the new group (on the menu's
 * button when their reaction is gone), rather than dropped at the top of the page. */
export function replaceReactionBar(current, bar) {
  const focused = current.contains(document.activeElement) ? document.activeElement : null;
  const opened = current.querySelector("details")?.open ?? false;
  bar.querySelector("details").open = opened;
  current.replaceWith(bar);
  if (!focused) return;
  const key = controlKey(focused);
  const same = [...bar.querySelectorAll("summary, button")].find((node) => controlKey(node) === key);
  (same || bar.querySelector("summary")).focus();
}

/** A reaction chosen from the menu closes it: the focus goes back to the menu's button, not
 * away with the hidden choice. */
export function closePickerOf(choice) {
  const picker = choice.closest("details");
  if (!picker) return;
  picker.open = false;
  picker.querySelector("summary").focus();
}
