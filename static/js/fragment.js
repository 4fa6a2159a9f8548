// A server-rendered part of a page (`?partial=1`), fetched again when a socket says it
// changed: the server orders it and applies the viewer's access rules and blocks, as the
// page itself did. Used by the rooms lobby and the conversations list.

/** `refreshSoon()` fetches `url` into `container` once, a moment later however many ask
 * (`jitter` ms at most, which also spreads the fetches of many open pages). Around each
 * swap, `onReplace(kept)` gets what `beforeReplace()` kept of the old content. */
export function refresher(container, url, { jitter, beforeReplace = () => null, onReplace = () => {} }) {
  let scheduled = false;

  async function refresh() {
    scheduled = false;
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) return;
      const fresh = document.createElement("template");
      fresh.innerHTML = await response.text();
      const kept = beforeReplace();
      container.replaceChildren(...fresh.content.childNodes);
      onReplace(kept);
    } catch {
      // Offline for a moment: the next change tries again.
    }
  }

  return function refreshSoon() {
    if (scheduled) return;
    scheduled = true;
    setTimeout(refresh, Math.random() * jitter);
  };
}
