// Small progressive enhancements; every page works without them.

// Close an open <details> menu with Escape or a click elsewhere, returning focus to it.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    menu.open = false;
    menu.querySelector("summary")?.focus();
  }
});

document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});

// Onboarding: pre-select the browser's time zone when the member has not chosen one yet.
for (const wrapper of document.querySelectorAll("[data-detect-time-zone]:not([data-detected])")) {
  const select = wrapper.querySelector("select");
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (select && zone && [...select.options].some((option) => option.value === zone)) {
    select.value = zone;
  }
}

// The installable app's service worker (coworking/webapp.py): the offline page, and static
// files kept per deploy.
if ("serviceWorker" in navigator && document.body.dataset.serviceWorker) {
  navigator.serviceWorker.register(document.body.dataset.serviceWorker, { scope: "/" }).catch(() => {
    // Without it the site works as before: no offline page.
  });
}
