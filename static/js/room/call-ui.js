// The call at this room's table (a meeting room has one; the cafeteria has several):
// call.js owns the connections, this part draws the controls, the status line, the tiles
// (call-tiles.js) and the tables (call-tables.js), and keeps my status at "In a call".

import { Call, callsSupported, screenSharingSupported } from "../call.js";
import { renderTables } from "./call-tables.js";
import { clearTiles, peerTile, showPeer, showSelf, showTiles } from "./call-tiles.js";
import { fill } from "./dom.js";
import { isCafeteria, send, socket } from "./live.js";
import { changeStatus, myStatus, setMyTable } from "./presence.js";

// Refusals of `call.join`: the seat was not given, so the devices are let go.
const SEAT_ERRORS = new Set(["call_full", "already_in_call", "no_table", "blocked_at_table", "joining_too_often"]);
// Signalling that lost a race with someone leaving: nothing for a person to do about it.
const QUIET_CALL_ERRORS = new Set(["not_in_call", "no_peer"]);
const CALL_ERRORS = new Set([...SEAT_ERRORS, ...QUIET_CALL_ERRORS, "sdp_too_large"]);

const callSection = document.getElementById("call");
const callSetup = document.getElementById("call-setup");
const joinButton = document.getElementById("call-join");
const callControls = document.getElementById("call-controls");
const muteButton = document.getElementById("call-mute");
const cameraButton = document.getElementById("call-camera");
const screenButton = document.getElementById("call-screen");
const leaveButton = document.getElementById("call-leave");
const callStatus = document.getElementById("call-status");

const call = new Call(send);
let statusBeforeCall = null; // restored on leaving, unless the person changed it meanwhile
let joinNote = ""; // said with "You joined", e.g. that the camera could not be used

function sayCall(message) {
  callStatus.textContent = message;
}

function deviceProblem(error) {
  switch (error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return gettext("Your browser did not allow the microphone or camera. Allow them for this site in the address bar, then try again.");
    case "NotFoundError":
    case "OverconstrainedError":
      return gettext("No microphone or camera was found. Connect one, then try again.");
    case "NotReadableError":
    case "AbortError":
      return gettext("Your microphone or camera is in use by another application. Close it, then try again.");
    default:
      return gettext("Your microphone or camera could not be started.");
  }
}

async function joinCall(table) {
  if (!callsSupported) {
    sayCall(gettext("This browser cannot make calls on this page."));
    return;
  }
  if (!socket.isOpen) {
    sayCall(gettext("Not connected: try again in a moment."));
    return;
  }
  const video = callSection.querySelector("input[name=call-media]:checked").value === "video";
  joinNote = "";
  sayCall(gettext("Asking your browser for the microphone…"));
  try {
    await call.join({ table, video });
  } catch (error) {
    // A missing or busy camera should not keep someone out of a conversation.
    const cameraOnly = video && ["NotFoundError", "NotReadableError", "OverconstrainedError"].includes(error.name);
    if (!cameraOnly) {
      sayCall(deviceProblem(error));
      return;
    }
    try {
      await call.join({ table, video: false });
      joinNote = gettext("No camera could be used: you joined with the microphone only.");
    } catch (again) {
      sayCall(deviceProblem(again));
      return;
    }
  }
  if (call.state === "joining") sayCall(gettext("Joining…"));
}

// One control at a time: each of these asks the browser for something and may wait on a prompt.
async function busy(control, action) {
  control.disabled = true;
  try {
    await action();
  } finally {
    control.disabled = false;
    showControls();
  }
}

export function drawTables() {
  renderTables({
    mine: call.state === "in" ? call.table : null,
    // One table at a time: leaving comes before sitting elsewhere.
    canSit: call.state === "idle",
    sitDown: (number, sit) => busy(sit, () => joinCall(number)),
  });
}

function onCallJoined(frame) {
  const rejoined = call.state === "rejoining";
  call.joined(frame);
  if (call.state !== "in") return;
  setMyTable(call.table);
  drawTables();
  let message = isCafeteria
    ? fill(gettext("You sit at table {number}."), { number: call.table })
    : gettext("You joined the call.");
  if (rejoined) message = gettext("You are back in the call.");
  sayCall(joinNote ? `${message} ${joinNote}` : message);
  joinNote = "";
  if (myStatus() !== "call") {
    statusBeforeCall ??= myStatus();
    changeStatus("call");
  }
}

// A page's own rule for the microphone (a focus block mutes it while everyone works).
export function setCallMuted(muted) {
  if (call.state === "idle" || call.muted === muted) return;
  call.setMuted(muted);
  showControls();
}

export function isCallError(frame) {
  return CALL_ERRORS.has(frame.code);
}

export function onCallError(frame) {
  const seeking = call.state === "joining" || call.state === "rejoining";
  if (QUIET_CALL_ERRORS.has(frame.code)) return;
  // Everyone left the table while we were away: it is gone, so start a new one.
  if (call.state === "rejoining" && frame.code === "no_table" && isCafeteria) {
    call.retry(null);
    return;
  }
  // A flaky connection rejoined often: the server's window of joins refills in 10 s.
  if (call.state === "rejoining" && frame.code === "joining_too_often") {
    setTimeout(() => call.retry(), 10_000);
    return;
  }
  if (seeking && SEAT_ERRORS.has(frame.code)) call.end();
  sayCall(frame.message);
}

// After every `hello`: a first connection makes calls possible, a later one means the socket
// came back after a blip, and a call in progress must find its seat again.
export function callConnected() {
  joinButton.disabled = !callsSupported;
  drawTables();
  if (call.state === "idle") return;
  sayCall(gettext("Connection lost. Rejoining the call…"));
  call.rejoin();
  if (myStatus() !== "call") changeStatus("call");
}

export function callDropped() {
  if (call.state !== "idle") sayCall(gettext("Connection lost. Rejoining the call…"));
}

export function callEnded() {
  call.end();
  joinButton.disabled = true;
}

function showControls() {
  muteButton.setAttribute("aria-pressed", String(call.muted));
  cameraButton.setAttribute("aria-pressed", String(Boolean(call.camera)));
  screenButton.setAttribute("aria-pressed", String(Boolean(call.screen)));
  showSelf(call);
}

function showCallState(state) {
  const idle = state === "idle";
  const focused = document.activeElement;
  const focusInCall = callSection.contains(focused) || focused === document.body;
  callSetup.hidden = !idle;
  callControls.hidden = idle || state === "starting";
  showTiles(!(idle || state === "starting"));
  if (idle) {
    clearTiles();
    setMyTable(null);
    if (socket.isOpen && statusBeforeCall && myStatus() === "call") changeStatus(statusBeforeCall);
    statusBeforeCall = null;
    // The control that was used is gone (or still disabled while its click finishes).
    if (focusInCall) setTimeout(() => joinButton.focus());
  } else if (state === "joining" && focusInCall) {
    // The button that was pressed is gone; the first control takes its place.
    muteButton.focus();
  }
  showControls();
  drawTables();
}

export const callHandlers = {
  "call.joined": onCallJoined,
  "call.peer_joined": (frame) => {
    if (call.state !== "in") return;
    call.peerJoined(frame);
    sayCall(fill(gettext("{name} joined."), { name: frame.user.name }));
  },
  "call.peer_left": (frame) => call.peerLeft(frame),
  "call.peer_media": (frame) => call.peerMedia(frame),
  "call.offer": (frame) => call.offer(frame),
  "call.answer": (frame) => call.answer(frame),
  "call.ice": (frame) => call.ice(frame),
  "call.credentials": (frame) => call.credentials(frame),
  // Leaving does not wait for its own "left": the page let go of the call when asked.
  "call.left": (frame) => {
    // "left" answers this page's own leaving, which it did not wait for: a late one belongs
    // to the seat it gave up, not to a call it has joined since.
    if (call.state === "idle" || frame.reason === "left") return;
    if (frame.reason === "replaced") {
      // Another tab of ours took the seat.
      call.end();
      sayCall(gettext("You joined this call from another tab or window, so this one left it."));
    } else if (frame.reason === "dropped") {
      sayCall(gettext("Connection lost. Rejoining the call…"));
      call.rejoin();
    } else if (frame.reason === "moved") {
      // A focus block's page moved to another table: its call is another call.
      call.end();
      sayCall(gettext("Your table changed, so you left its call."));
    } else if (frame.reason === "blocked") {
      call.end();
      sayCall(gettext("You left this call: someone you blocked is in it."));
    } else {
      // A reason a later release added: the server has ended this page's place in the call
      // either way, so it lets go of it (and of the microphone and camera) too.
      call.end();
      sayCall(gettext("You left the call."));
    }
  },
};

export function setUpCall() {
  call.addEventListener("state", (event) => showCallState(event.detail.state));
  call.addEventListener("local", showControls);
  call.addEventListener("peer", (event) => showPeer(event.detail));
  call.addEventListener("peerleave", (event) => {
    const { peer, reason } = event.detail;
    const tile = peerTile(peer.id);
    if (tile?.contains(document.activeElement)) leaveButton.focus();
    tile?.remove();
    if (reason === "left") sayCall(fill(gettext("{name} left."), { name: peer.user.name }));
    if (reason === "dropped") sayCall(fill(gettext("The connection with {name} was lost."), { name: peer.user.name }));
  });

  joinButton.addEventListener("click", () => busy(joinButton, () => joinCall(null)));
  muteButton.addEventListener("click", () => call.setMuted(!call.muted));
  leaveButton.addEventListener("click", () => {
    call.leave();
    sayCall(isCafeteria ? gettext("You left the table.") : gettext("You left the call."));
  });
  cameraButton.addEventListener("click", () =>
    busy(cameraButton, () =>
      call.setCamera(!call.camera).catch((error) => {
        sayCall(`${gettext("The camera could not be started.")} ${deviceProblem(error)}`);
      }),
    ),
  );
  screenButton.hidden = !screenSharingSupported;
  screenButton.addEventListener("click", () =>
    busy(screenButton, () =>
      (call.screen ? call.stopSharing() : call.shareScreen()).catch(() => {
        // Most often the person closed the browser's picker: say so quietly.
        sayCall(gettext("Screen sharing did not start."));
      }),
    ),
  );
  if (!callsSupported) sayCall(gettext("This browser cannot make calls on this page."));
}
