// The member's own socket, /ws/me/ (docs/websocket-protocol.md, "The member socket"), opened
// by every page of a logged-in member. It keeps the header's counters live in every tab and
// hands the conversation frames to the page's modules (static/js/conversation.js) through
// `inbox`, an EventTarget:
//   "frame" [frame]  every frame from the server, parsed (`hello` again after a reconnect)

import { RoomSocket, reloadSoon } from "./room/socket.js";

export const inbox = new EventTarget();
const socket = new RoomSocket("/ws/me/");

// The conversation on screen, if a page shows one: its messages count as read as they
// arrive, so they do not add to the header's count.
export const showing = { conversation: null };

const counts = { messages: 0, notices: 0 };

export function send(frame) {
  return socket.send(frame);
}

export function isConnected() {
  return socket.isOpen;
}

function label(kind, count) {
  if (kind === "messages") {
    return count ? interpolate(ngettext(", %s unread", ", %s unread", count), [count]) : "";
  }
  return interpolate(
    ngettext("Notifications, %s unread", "Notifications, %s unread", count),
    [count],
  );
}

function show(kind, count) {
  counts[kind] = Math.max(0, count);
  for (const badge of document.querySelectorAll(`[data-count="${kind}"]`)) {
    badge.textContent = String(counts[kind]);
    badge.hidden = counts[kind] === 0;
  }
  for (const text of document.querySelectorAll(`[data-count-label="${kind}"]`)) {
    text.textContent = label(kind, counts[kind]);
  }
}

socket.addEventListener("frame", (event) => {
  const frame = event.detail;
  if (frame.type === "hello") {
    // A page of another member, brought back from the browser's back/forward cache after
    // they signed out and someone else signed in on this browser (a shared computer): the
    // socket reconnects with the new member's cookie, so the page goes rather than keep
    // showing what was theirs.
    if (frame.you && frame.you.id !== Number(document.body.dataset.youId)) {
      window.location.reload();
      return;
    }
    socket.welcomed();
    show("messages", frame.counts.messages);
    show("notices", frame.counts.notices);
  } else if (frame.type === "counts") {
    show("messages", frame.messages);
    show("notices", frame.notices);
  } else if (frame.type === "message.new") {
    const message = frame.message;
    const mine = message.author && message.author.id === Number(document.body.dataset.youId);
    const onScreen = showing.conversation === message.conversation
      && document.visibilityState === "visible";
    if (!mine && !onScreen) show("messages", counts.messages + 1);
  }
  inbox.dispatchEvent(new CustomEvent("frame", { detail: frame }));
});

// Sent away on purpose (logged out here or in another tab, the password changed, the account
// closed): the page reloads, which leads to the login page, rather than keep showing what is
// private while hearing nothing more. A room page's own socket does the same.
socket.addEventListener("kick", () => reloadSoon());

socket.connect();

// Once a session (the page carries `data-push-rebind` until then): tell the site which push
// subscription this browser holds, so that a device the member turned on here follows a new
// sign-in (notifications.push.subscription_rebind) instead of being found signed out at its
// next notification and turned off without a word. Nothing is asked of the browser.
async function pushRebind(url) {
  if (!("serviceWorker" in navigator && "PushManager" in window && "Notification" in window)) return;
  if (Notification.permission !== "granted") return;
  const registration = await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.getSubscription();
  if (!subscription) return;
  await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": document.querySelector("[name=csrfmiddlewaretoken]").value },
    body: new URLSearchParams({ endpoint: subscription.endpoint }),
  });
}

if (document.body.dataset.pushRebind) pushRebind(document.body.dataset.pushRebind).catch(() => {});
