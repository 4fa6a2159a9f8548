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
