// Staff tools on the presence list (mute, unmute, remove) and what the server says once
// they took effect. Being muted oneself is the composer's business (chat.js).

import { button, confirmStep, element, fill } from "./dom.js";
import { live, send } from "./live.js";

const MUTE_MINUTES = 15;

const moderationStatus = document.getElementById("moderation-status");
const names = new Map(); // user id -> name, for the feedback after someone left

export function moderationTools(item, member) {
  names.set(member.id, member.name);
  if (!live.me.staff || member.id === live.me.id || item.querySelector(".presence-actions")) return;
  const tools = element("span", "presence-actions");
  tools.setAttribute("role", "group");
  tools.setAttribute("aria-label", fill(gettext("Moderate {name}"), { name: member.name }));
  const removeButton = button(gettext("Remove from room"), () => {
    const question = fill(gettext("Remove {name} from this room?"), { name: member.name });
    confirmStep(tools, question, gettext("Yes, remove"), () => {
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

export const moderationHandlers = {
  "moderation.done": (frame) => {
    const name = names.get(frame.user_id) || "";
    const message = {
      mute: gettext("{name} is muted for 15 minutes."),
      unmute: gettext("{name} can write again."),
      remove: gettext("{name} was removed from the room."),
    }[frame.action];
    if (message) moderationStatus.textContent = fill(message, { name });
  },
};
