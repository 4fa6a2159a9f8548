// Turning on push notifications for this device (notifications/settings.html). The
// browser's permission prompt comes only from the member's click on the button, never on
// page load; the subscription goes to the server, which posts to it (notifications/push.py).

const section = document.querySelector("[data-push-key]");
if (section) setUp(section);

function setUp(section) {
  const button = section.querySelector("[data-push-enable]");
  const status = section.querySelector("[data-push-status]");
  const key = base64UrlBytes(section.dataset.pushKey);
  if (!("serviceWorker" in navigator && "PushManager" in window && "Notification" in window)) {
    section.querySelector("[data-push-unsupported]").hidden = false;
    return;
  }

  navigator.serviceWorker.ready.then(async (registration) => {
    const current = await registration.pushManager.getSubscription();
    const listed = current && thisDevice(current);
    if (listed && sameKey(current, key)) return;
    if (Notification.permission === "denied") {
      status.textContent = gettext("Notifications are blocked for this site in your browser's settings.");
      return;
    }
    button.hidden = false;
  });

  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = gettext("Asking your browser…");
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        status.textContent = gettext("Your browser did not allow notifications. You can change that in its settings for this site.");
        return;
      }
      const registration = await navigator.serviceWorker.ready;
      let subscription = await registration.pushManager.getSubscription();
      // A subscription made for another key (the site changed it) cannot be used.
      if (subscription && !sameKey(subscription, key)) {
        await subscription.unsubscribe();
        subscription = null;
      }
      subscription ||= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      const errors = await store(subscription);
      if (errors) {
        status.textContent = errors;
        return;
      }
      status.textContent = gettext("Notifications are on for this device.");
      window.location.reload();
    } catch {
      status.textContent = gettext("Your browser could not turn notifications on. Try again later.");
    } finally {
      button.disabled = false;
    }
  });

  // Turning this device off also ends its subscription in the browser.
  for (const form of section.querySelectorAll(".device-list form")) {
    form.addEventListener("submit", async (event) => {
      const row = form.closest("[data-endpoint]");
      const registration = await navigator.serviceWorker.getRegistration("/");
      const current = registration && (await registration.pushManager.getSubscription());
      if (!current || current.endpoint !== row.dataset.endpoint || form.dataset.unsubscribed) return;
      event.preventDefault();
      await current.unsubscribe().catch(() => {});
      form.dataset.unsubscribed = "yes";
      form.submit();
    });
  }
}

// Marks this device's row in the list; true when the server knows this subscription.
function thisDevice(subscription) {
  for (const row of section.querySelectorAll("[data-endpoint]")) {
    if (row.dataset.endpoint === subscription.endpoint) {
      row.querySelector(".this-device").hidden = false;
      return true;
    }
  }
  return false;
}

async function store(subscription) {
  const { endpoint, keys } = subscription.toJSON();
  const body = new FormData();
  body.append("endpoint", endpoint);
  body.append("p256dh", keys?.p256dh || "");
  body.append("auth", keys?.auth || "");
  const response = await fetch(section.dataset.pushSubscribe, {
    method: "POST",
    body,
    headers: { "X-CSRFToken": document.querySelector("[name=csrfmiddlewaretoken]").value },
    credentials: "same-origin",
  });
  if (response.ok) return "";
  const answer = await response.json().catch(() => ({}));
  const messages = Object.values(answer.errors || {}).flat().map((error) => error.message || error);
  return messages.join(" ") || gettext("The site could not save this device. Try again later.");
}

function sameKey(subscription, key) {
  const used = subscription.options?.applicationServerKey;
  if (!used) return true;
  const bytes = new Uint8Array(used);
  return bytes.length === key.length && bytes.every((byte, index) => byte === key[index]);
}

function base64UrlBytes(text) {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (char) => char.charCodeAt(0));
}
