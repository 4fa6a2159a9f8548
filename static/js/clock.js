// The server's clock, as this page can tell it. A device's clock may be minutes or hours
// off (set by hand, never synchronised), and what time it is for the community is the
// server's: when a mute ends, whether an event has started, how long ago a notice came. The
// server writes its time into every page (`<body data-now>`); the difference from this
// device's clock, taken as the page loads, holds while it stays open (a page's network
// delay makes it a moment late, never minutes). Durations (timers, backoffs) need none of
// this: the device's clock measures them well, whatever its time.
const written = Date.parse(document.body?.dataset.now ?? "");
const offset = Number.isNaN(written) ? 0 : written - Date.now();

/** Now by the server's clock, in ms since the epoch. */
export function serverNow() {
  return Date.now() + offset;
}
