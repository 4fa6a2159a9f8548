// The site's service worker (docs/webapp.md), rendered by coworking.webapp.service_worker.
// Its version changes with every deploy that changes a static file: the browser then
// installs the new worker, which takes over at once and deletes the old caches, so the
// app never runs on a stale copy of the site.
const VERSION = "{{ version|escapejs }}";
const CACHE = `coworking-${VERSION}`;
const OFFLINE_URL = "{{ offline_url|escapejs }}";
const STATIC_URL = "{{ static_url|escapejs }}";
const HASHED = {{ hashed|yesno:"true,false" }};
// The offline page in each of the site's languages, shown in the language of the last page
// served (its Content-Language, remembered in the cache under LANGUAGE_KEY).
const LANGUAGES = [{% for code in languages %}"{{ code|escapejs }}", {% endfor %}];
const DEFAULT_LANGUAGE = "{{ default_language|escapejs }}";
const LANGUAGE_KEY = `${OFFLINE_URL}?language-seen`;
const offlineCopy = (language) => `${OFFLINE_URL}?lang=${language}`;
const PRECACHE = [...LANGUAGES.map(offlineCopy),{% for asset in assets %} "{{ asset|escapejs }}",{% endfor %}];
let languageSeen = null;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      // The member's language until a page says otherwise: the one the site answers this
      // request in (its cookie goes along).
      .then((cache) =>
        Promise.all([
          cache.addAll(PRECACHE),
          fetch(OFFLINE_URL).then((response) => {
            const language = response.headers.get("Content-Language");
            if (LANGUAGES.includes(language)) return cache.put(LANGUAGE_KEY, new Response(language));
          }),
        ]),
      )
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith("coworking-") && key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    // Pages always come from the network (they are live and personal); the offline page
    // stands in when there is none.
    event.respondWith(
      fetch(request).then(
        (response) => {
          rememberLanguage(event, response);
          return response;
        },
        () => offlinePage(),
      ),
    );
    return;
  }
  if (url.pathname.startsWith(STATIC_URL)) {
    event.respondWith(caches.open(CACHE).then((cache) => (HASHED ? cacheFirst : networkFirst)(cache, request)));
  }
});

function rememberLanguage(event, response) {
  const language = response.headers.get("Content-Language");
  if (!LANGUAGES.includes(language) || language === languageSeen) return;
  languageSeen = language;
  event.waitUntil(caches.open(CACHE).then((cache) => cache.put(LANGUAGE_KEY, new Response(language))));
}

function offlinePage() {
  return caches
    .match(LANGUAGE_KEY)
    .then((hit) => (hit ? hit.text() : DEFAULT_LANGUAGE))
    .then((language) => caches.match(offlineCopy(LANGUAGES.includes(language) ? language : DEFAULT_LANGUAGE), { ignoreVary: true }));
}

// Collected static files carry their content's hash in their names: a cached copy is never
// stale. From this version's cache, else the network, kept for next time.
function cacheFirst(cache, request) {
  return cache.match(request).then((hit) => hit || fetchAndKeep(cache, request));
}

// Without hashed names (development, where files change under the same name): the network,
// the cache only when there is none (the offline page's stylesheet).
function networkFirst(cache, request) {
  return fetchAndKeep(cache, request).catch(() => cache.match(request).then((hit) => hit || Response.error()));
}

function fetchAndKeep(cache, request) {
  return fetch(request).then((response) => {
    if (response.ok) cache.put(request, response.clone());
    return response;
  });
}

// Push notifications (notifications/push.py, `payload_for`): the server's message, shown
// whether or not a tab is open. One tag per conversation or room: a new message replaces
// the last notification (and buzzes again, `renotify`) instead of stacking up.
const ICON = "{{ icon|escapejs }}";

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = {};
  }
  const options = {
    body: message.body || "",
    icon: ICON,
    lang: message.lang || "",
    data: { url: sameSite(message.url), page: sameSite(message.page || message.url) },
  };
  if (message.tag) {
    options.tag = message.tag;
    options.renotify = Boolean(message.renotify);
  }
  event.waitUntil(self.registration.showNotification(message.title || "{{ site_name|escapejs }}", options));
});

// A click brings the member to the notice's page: the tab already showing it comes to the
// front; otherwise a new one opens (never taking over a tab in use: it may be in a call).
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const { url, page } = event.notification.data || {};
  event.waitUntil(openOrFocus(url || "/", page || url || "/"));
});

function openOrFocus(url, page) {
  return self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
    const path = new URL(page, self.location.origin).pathname;
    const open = windows.find((client) => new URL(client.url).pathname === path);
    return open ? open.focus() : self.clients.openWindow(url);
  });
}

// Only paths of this site: a link in a message never sends the member elsewhere. A path
// starting "//" would be read as another site's address: it keeps one slash.
function sameSite(link) {
  if (typeof link !== "string") return "/";
  const url = new URL(link, self.location.origin);
  if (url.origin !== self.location.origin) return "/";
  return `/${url.pathname.replace(/^\/+/, "")}${url.search}${url.hash}`;
}

// The browser replaced this device's push subscription (it expired, or its push service
// rotated it; Firefox does): the site learns the new one, for the device stored under the
// old endpoint, without the member having to turn notifications on again. A device turned
// off meanwhile stays off (the site answers 404). With no old subscription to name the
// device by, nothing is sent: the settings page turns it on again.
const PUSH_RENEW_URL = "{{ push_renew_url|escapejs }}";

self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil(renewSubscription(event.oldSubscription, event.newSubscription));
});

async function renewSubscription(old, fresh) {
  if (!old) return;
  const renewed = fresh || (await self.registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: old.options.applicationServerKey,
  }));
  const { endpoint, keys } = renewed.toJSON();
  const body = new FormData();
  body.append("old_endpoint", old.endpoint);
  body.append("endpoint", endpoint);
  body.append("p256dh", keys?.p256dh || "");
  body.append("auth", keys?.auth || "");
  await fetch(PUSH_RENEW_URL, { method: "POST", body, credentials: "same-origin" });
}
