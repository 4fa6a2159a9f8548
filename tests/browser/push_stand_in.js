// Stands in for the browser maker's push service in tests/browser/test_push.py: keys made
// with WebCrypto as the browser would, an endpoint on the tests' push service.
(() => {
  const ENDPOINT = window.__testPushEndpoint;
  const STORE = "test-push-subscription";
  const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const unb64 = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const subscription = (saved) => ({
    endpoint: saved.endpoint,
    options: { applicationServerKey: unb64(saved.key).buffer, userVisibleOnly: true },
    toJSON: () => ({ endpoint: saved.endpoint, expirationTime: null, keys: { p256dh: saved.p256dh, auth: saved.auth } }),
    unsubscribe: () => { localStorage.removeItem(STORE); return Promise.resolve(true); },
  });
  window.__subscribeCalls = 0;
  window.__permissionAsks = 0;
  const ask = Notification.requestPermission.bind(Notification);
  Notification.requestPermission = (...args) => { window.__permissionAsks += 1; return ask(...args); };
  PushManager.prototype.getSubscription = function () {
    const saved = localStorage.getItem(STORE);
    return Promise.resolve(saved ? subscription(JSON.parse(saved)) : null);
  };
  PushManager.prototype.subscribe = async function (options) {
    window.__subscribeCalls += 1;
    if (Notification.permission !== "granted") throw new DOMException("Not allowed", "NotAllowedError");
    const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
    const saved = {
      endpoint: ENDPOINT,
      p256dh: b64(await crypto.subtle.exportKey("raw", pair.publicKey)),
      auth: b64(crypto.getRandomValues(new Uint8Array(16))),
      key: b64(options.applicationServerKey),
      d: (await crypto.subtle.exportKey("jwk", pair.privateKey)).d,
    };
    localStorage.setItem(STORE, JSON.stringify(saved));
    return subscription(saved);
  };
})();
