// Staff tools on the presence list (mute, unmute, remove) and what the server says once
// they took effect. Being muted oneself is the composer's business (chat.js).

import { serverNow } from "../clock.js";
import { button, confirmStep, element, fill } from "./dom.js";
import { live, send } from "./live.js";

const MUTE_MINUTES = 15;

const moderationStatus = document.getElementById("moderation-status");
const names = new Map(); // user id -> name, for the feedback after someone left
// Whom this room has muted, as far as this staff page knows (hello's `muted_here`, then its
// own mutes): each member's tools offer the one of "Mute" and "Unmute" that applies.
const mutedUntil = new Map(); // user id -> Date
const mutedTimers = new Map(); // user id -> the timeout that lifts the mute here when it ends

/** On every `hello` to staff: who is muted in the room now. */
export function mutedHere(list) {
  for (const timer of mutedTimers.values()) clearTimeout(timer);
  mutedTimers.clear();
  mutedUntil.clear();
  for (const { id, until } of list || []) noteMuted(id, until);
  for (const tools of document.querySelectorAll(".presence-actions[data-user-id]")) showMuteState(tools);
}

function noteMuted(userId, until) {
  clearTimeout(mutedTimers.get(userId));
  mutedTimers.delete(userId);
  const end = until ? new Date(until) : null;
  if (end && end.getTime() > serverNow()) {
    mutedUntil.set(userId, end);
    mutedTimers.set(userId, setTimeout(() => noteMuted(userId, null), end.getTime() - serverNow()));
  } else {
    mutedUntil.delete(userId);
  }
  const tools = document.querySelector(`.presence-actions[data-user-id="${userId}"]`);
  if (tools) showMuteState(tools);
}

function showMuteState(tools) {
  const muted = mutedUntil.has(Number(tools.dataset.userId));
  const mute = tools.querySelector('[data-action="mute"]');
  const unmute = tools.querySelector('[data-action="unmute"]');
  // The button pressed gives way to the other, in the same place: the focus follows.
  const hadFocus = document.activeElement === mute || document.activeElement === unmute;
  mute.hidden = muted;
  unmute.hidden = !muted;
  if (hadFocus) (muted ? unmute : mute).focus();
}

export function moderationTools(item, member) {
  names.set(member.id, member.name);
  if (!live.me.staff || member.id === live.me.id || item.querySelector(".presence-actions")) return;
  const tools = element("span", "presence-actions");
  tools.dataset.userId = member.id;
  tools.setAttribute("role", "group");
  tools.setAttribute("aria-label", fill(gettext("Moderate {name}"), { name: member.name }));
  const removeButton = button(gettext("Remove from room"), () => {
    const question = fill(gettext("Remove {name} from this room?"), { name: member.name });
    confirmStep(tools, question, gettext("Yes, remove"), () => {
      send({ type: "member.remove", user_id: member.id });
    }, removeButton);
  }, "button-small button-danger");
  const mute = button(gettext("Mute 15 min"), () =>
    send({ type: "member.mute", user_id: member.id, minutes: MUTE_MINUTES }),
  );
  mute.dataset.action = "mute";
  const unmute = button(gettext("Unmute"), () => send({ type: "member.mute", user_id: member.id, minutes: 0 }));
  unmute.dataset.action = "unmute";
  tools.append(mute, unmute, removeButton);
  showMuteState(tools);
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
    if (frame.action === "mute" || frame.action === "unmute") noteMuted(frame.user_id, frame.until);
  },
};
