// The lobby's room list, refreshed in place every 15 seconds.

const REFRESH_EVERY_MS = 15_000;
const list = document.getElementById("room-list");

async function refresh() {
  try {
    const response = await fetch(list.dataset.refreshUrl, { credentials: "same-origin" });
    if (!response.ok) return;
    const html = await response.text();
    const fresh = new DOMParser().parseFromString(`<ul>${html}</ul>`, "text/html");
    list.replaceChildren(...fresh.querySelector("ul").children);
  } catch {
    // Offline for a moment: the next round tries again.
  }
}

if (list) setInterval(refresh, REFRESH_EVERY_MS);
