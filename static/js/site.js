// Small progressive enhancements; every page works without them.

import { serverNow } from "./clock.js";

// Close an open <details> menu (the account menu, a profile's "More") with Escape, returning
// focus to it, or when a click or the keyboard's focus goes elsewhere: an open menu left
// behind would cover what the focus moved on to.
const OPEN_MENUS = "details.menu[open], details.profile-more[open]";

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll(OPEN_MENUS)) {
    menu.open = false;
    menu.querySelector("summary")?.focus();
  }
});

document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll(OPEN_MENUS)) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});

document.addEventListener("focusout", (event) => {
  const menu = event.target.closest?.(OPEN_MENUS);
  // No new target: the window lost focus, or a click inside the menu on no control.
  if (menu && event.relatedTarget && !menu.contains(event.relatedTarget)) menu.open = false;
});

// A form sent back with errors: the focus goes to its first field to fix, so that keyboard and
// screen reader users land on it (its error is tied to it) rather than at the top of the page.
const firstInvalid = document.querySelector('form[method="post" i] [aria-invalid="true"]');
if (firstInvalid && !document.querySelector("[autofocus]")) firstInvalid.focus();

// Onboarding: pre-select the browser's time zone when the member has not chosen one yet.
for (const wrapper of document.querySelectorAll("[data-detect-time-zone]:not([data-detected])")) {
  const select = wrapper.querySelector("select");
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  // Browsers may report a zone by an older name ("America/Buenos_Aires"): options list theirs.
  const match = zone && [...(select?.options ?? [])].find(
    (option) => option.value === zone || option.dataset.aliases?.split(" ").includes(zone),
  );
  if (match) select.value = match.value;
}

// The installable app's service worker (coworking/webapp.py): the offline page, and static
// files kept per deploy.
if ("serviceWorker" in navigator && document.body.dataset.serviceWorker) {
  navigator.serviceWorker.register(document.body.dataset.serviceWorker, { scope: "/" }).catch(() => {
    // Without it the site works as before: no offline page.
  });
  // Signed out (no member on this page): the notices the worker showed the member who was
  // signed in, excerpts of messages among them, would stay on a shared computer's screen.
  if (!document.body.dataset.youId) {
    navigator.serviceWorker.getRegistration("/")
      .then((registration) => registration?.getNotifications())
      .then((shown) => {
        for (const notice of shown ?? []) notice.close();
      })
      .catch(() => {});
  }
}

// Moments that pass while a page stays open (a home page left open all day): an event's
// "Starting now" shows from its start to its end, and an event that is over leaves the home
// page's list. The server drew the page as it was when it was loaded.
function showWhatIsLiveNow() {
  const now = serverNow();
  for (const flag of document.querySelectorAll("[data-live-from]")) {
    flag.hidden = !(Date.parse(flag.dataset.liveFrom) <= now && now < Date.parse(flag.dataset.liveUntil));
  }
  for (const item of document.querySelectorAll("[data-over-at]")) {
    if (Date.parse(item.dataset.overAt) <= now) item.hidden = true;
  }
}

// What a page shows of the clock, kept in step while it stays open: every `every` ms, and at
// once when the tab comes back into view or the page back from the back-forward cache.
function followTheClock(update, every) {
  setInterval(update, every);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") update();
  });
  addEventListener("pageshow", (event) => {
    if (event.persisted) update();
  });
}

if (document.querySelector("[data-live-from], [data-over-at]")) {
  followTheClock(showWhatIsLiveNow, 30_000);
}

// A form posted over a slow network shows nothing until the next page arrives, and a second
// tap sends it again: two meetups, two rooms, two reports. Once a POST form is on its way,
// further submits of it are ignored (the form is marked busy, which the styles show) until
// the page is shown again from the back-forward cache, or RESUBMIT_AFTER has passed: a send
// that never came back can be tried again. Forms a script sends itself (it prevents the
// default, on the form, before this runs) and those that only download a file and leave the
// page where it is (`data-resubmit`) are left alone. Nothing is disabled: a disabled button
// would leave its own name and value out of what is sent.
const RESUBMIT_AFTER = 20_000;

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented || form.method !== "post" || "resubmit" in form.dataset) return;
  if (form.getAttribute("aria-busy") === "true") {
    event.preventDefault();
    return;
  }
  form.setAttribute("aria-busy", "true");
  setTimeout(() => form.removeAttribute("aria-busy"), RESUBMIT_AFTER);
});

addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  for (const form of document.querySelectorAll('form[aria-busy="true"]')) form.removeAttribute("aria-busy");
});

// Times written as "5 minutes ago" (`<time data-ago>`, the notifications list) follow the
// clock while the page stays open, rather than keep the words of when it was loaded. From a
// day old on the server's words stay: they no longer change by the minute.
const AGO_FOLLOWED_MS = 24 * 3600 * 1000;

function refreshAgo() {
  const words = new Intl.RelativeTimeFormat(document.documentElement.lang || undefined, { numeric: "auto" });
  const now = serverNow();
  for (const time of document.querySelectorAll("time[data-ago]")) {
    const ago = now - Date.parse(time.dateTime);
    if (!(ago >= 0 && ago < AGO_FOLLOWED_MS)) continue;
    const minutes = Math.floor(ago / 60_000);
    if (minutes < 1) time.textContent = words.format(0, "second");
    else if (minutes < 60) time.textContent = words.format(-minutes, "minute");
    else time.textContent = words.format(-Math.floor(minutes / 60), "hour");
  }
}

if (document.querySelector("time[data-ago]")) followTheClock(refreshAgo, 60_000);
