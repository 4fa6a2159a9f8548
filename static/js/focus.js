// A focus block's page (docs/websocket-protocol.md, "Focus sessions"): the room's presence,
// chat and the table's call (static/js/room/), plus the ritual. The countdown runs against
// the server's clock: every frame carries the server's time, and the page keeps the offset
// from its own, so every member of a block sees the same second whatever their computer's
// clock says. Phase changes come from the server at their moment; the page never decides one.

import { callConnected, callDropped, callEnded, callHandlers, drawTables, isCallError, onCallError, setCallMuted, setUpCall } from "./room/call-ui.js";
import { element, fill, setTime } from "./room/dom.js";
import { root, send, socket } from "./room/live.js";
import { startRoomPage } from "./room/page.js";

const PHASE_NAMES = {
  before: gettext("Starting soon"),
  check_in: gettext("Check-in"),
  work: gettext("Focused work"),
  check_out: gettext("Check-out"),
  over: gettext("Finished"),
};
const PHASE_HINTS = {
  before: gettext("Write your goal while you wait. Your table is made at the start."),
  check_in: gettext("Say hello and tell your table your goal."),
  work: gettext("Work now. Your microphone is muted; the camera is up to you."),
  check_out: gettext("Tell your table how it went: done, partly or not this time."),
  over: "",
};
// Said once, when a phase begins (the countdown itself is not read aloud).
const PHASE_STARTED = {
  check_in: gettext("The block has started: check-in."),
  work: gettext("Check-in is over: time to work."),
  check_out: gettext("Time is up: check-out."),
  over: gettext("The block is over. Well done."),
};
const CHIME_KEY = "focus-chime";

const phaseName = document.getElementById("phase-name");
const countdown = document.getElementById("countdown");
const phaseEnds = document.getElementById("phase-ends");
const phaseEndsLine = document.getElementById("countdown-ends");
const status = document.getElementById("focus-status");
const hint = document.getElementById("phase-hint");
const over = document.getElementById("focus-over");
const chimeToggle = document.getElementById("chime-toggle");
const goalForm = document.getElementById("goal-form");
const goalInput = document.getElementById("goal-input");
const outcome = document.getElementById("outcome");
const tableTitle = document.getElementById("table-title");
const tableWaiting = document.getElementById("table-waiting");
const mates = document.getElementById("tablemates");
const callBox = document.getElementById("call");

const OUTCOME_LABELS = Object.fromEntries(
  [...(outcome?.querySelectorAll("input[name=outcome]") || [])].map((input) => [input.value, input.parentElement.textContent.trim()]),
);

let phase = root.dataset.phase;
let endsAt = root.dataset.endsAt ? new Date(root.dataset.endsAt) : null;
let offset = 0; // server time minus this computer's time, in ms
let ticker = null;
let helloSeen = false;

function serverNow() {
  return Date.now() + offset;
}

function syncClock(iso) {
  const server = new Date(iso).getTime();
  if (!Number.isNaN(server)) offset = server - Date.now();
}

function twoDigits(value) {
  return String(value).padStart(2, "0");
}

function tick() {
  if (!endsAt) {
    countdown.textContent = "";
    return;
  }
  const left = Math.max(0, Math.ceil((endsAt.getTime() - serverNow()) / 1000));
  const hours = Math.floor(left / 3600);
  const minutes = Math.floor((left % 3600) / 60);
  const seconds = left % 60;
  countdown.textContent = hours ? `${hours}:${twoDigits(minutes)}:${twoDigits(seconds)}` : `${twoDigits(minutes)}:${twoDigits(seconds)}`;
}

// Browsers keep sound off until the person has used the page: the chime's context is made
// (or woken) on the first click or key, so that later changes can be heard.
let audio = null;
function wakeAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  try {
    audio ??= new Context();
    if (audio.state === "suspended") audio.resume();
  } catch {
    audio = null;
  }
}

function chime() {
  if (chimeToggle.getAttribute("aria-pressed") !== "true" || !audio) return;
  try {
    const context = audio;
    const tone = context.createOscillator();
    const volume = context.createGain();
    tone.type = "sine";
    tone.frequency.value = 660;
    volume.gain.setValueAtTime(0.0001, context.currentTime);
    volume.gain.exponentialRampToValueAtTime(0.2, context.currentTime + 0.05);
    volume.gain.exponentialRampToValueAtTime(0.0001, context.currentTime + 1.2);
    tone.connect(volume).connect(context.destination);
    tone.start();
    tone.stop(context.currentTime + 1.3);
  } catch {
    // No sound available: the phase's name and the status line still say it.
  }
}

function showPhase(next, ends, announce) {
  const changed = next !== phase;
  phase = next;
  endsAt = ends ? new Date(ends) : null;
  root.dataset.phase = phase;
  phaseName.textContent = PHASE_NAMES[phase] || "";
  hint.textContent = PHASE_HINTS[phase] || "";
  if (phaseEnds) {
    if (ends) setTime(phaseEnds, ends);
    // Over, the block has nothing left to count down to: no "Until" on its own.
    phaseEndsLine.hidden = !ends;
  }
  over.hidden = phase !== "over";
  if (outcome) outcome.hidden = !(phase === "check_out" || phase === "over");
  if (goalInput) goalInput.disabled = phase === "over";
  // Working quietly: the table hears nobody until the check-out.
  if (phase === "work") setCallMuted(true);
  if (changed && announce) {
    status.textContent = PHASE_STARTED[phase] || "";
    chime();
  }
  tick();
  return changed;
}

function mateItem(mate) {
  const item = element("li");
  item.dataset.userId = mate.user.id;
  item.append(element("span", "mate-name", mate.user.name), element("span", "mate-goal"), element("span", "mate-outcome"));
  return item;
}

function showMate(mate) {
  let item = mates.querySelector(`li[data-user-id="${mate.user.id}"]`);
  if (!item) {
    item = mateItem(mate);
    mates.append(item);
  }
  item.querySelector(".mate-goal").textContent = mate.goal || gettext("No goal yet");
  item.querySelector(".mate-outcome").textContent = OUTCOME_LABELS[mate.outcome] || "";
}

function showTable(table, people) {
  if (!table) return;
  tableTitle.textContent = fill(gettext("Your table: {number}"), { number: table });
  tableWaiting.hidden = true;
  callBox.hidden = false;
  mates.replaceChildren();
  for (const mate of people) showMate(mate);
}

const focusHandlers = {
  "focus.hello": (frame) => {
    syncClock(frame.now);
    // Back after a drop into another phase: say which (the first hello says nothing new).
    showPhase(frame.phase, frame.ends_at, helloSeen);
    helloSeen = true;
    showTable(frame.table, frame.tablemates);
    if (goalInput && document.activeElement !== goalInput) goalInput.value = frame.goal;
  },
  "focus.phase": (frame) => {
    syncClock(frame.now);
    showPhase(frame.phase, frame.ends_at, true);
  },
  "focus.table": (frame) => {
    showTable(frame.table, frame.mates);
    // One message with the start's, so a screen reader reads both.
    const seated = fill(gettext("You sit at table {number}. Join its call when you are ready."), { number: frame.table });
    status.textContent = phase === "check_in" ? `${PHASE_STARTED.check_in} ${seated}` : seated;
  },
  "focus.mate": showMate,
  "focus.mate_left": (frame) => {
    const item = mates.querySelector(`li[data-user-id="${frame.user.id}"]`);
    if (!item) return;
    const name = item.querySelector(".mate-name")?.textContent || "";
    item.remove();
    status.textContent = fill(gettext("{name} left your table."), { name });
  },
  "focus.saved": (frame) => {
    status.textContent = gettext("Saved.");
    if (goalInput && document.activeElement !== goalInput) goalInput.value = frame.goal;
  },
};

const FOCUS_ERRORS = new Set(["goal_too_long", "no_seat", "no_table_yet", "not_yet", "over", "refused"]);

function setUpFocus() {
  setUpCall();
  const chimeOn = localStorage.getItem(CHIME_KEY) !== "off";
  chimeToggle.setAttribute("aria-pressed", String(chimeOn));
  chimeToggle.addEventListener("click", () => {
    const on = chimeToggle.getAttribute("aria-pressed") !== "true";
    chimeToggle.setAttribute("aria-pressed", String(on));
    localStorage.setItem(CHIME_KEY, on ? "on" : "off");
  });
  goalForm?.addEventListener("submit", (event) => {
    event.preventDefault();
    if (send({ type: "focus.goal", goal: goalInput.value })) status.textContent = gettext("Saving…");
  });
  outcome?.addEventListener("change", (event) => {
    if (event.target.name === "outcome") send({ type: "focus.outcome", outcome: event.target.value });
  });
  addEventListener("pointerdown", wakeAudio);
  addEventListener("keydown", wakeAudio);
  syncClock(root.dataset.now);
  showPhase(phase, root.dataset.endsAt || null, false);
  ticker = setInterval(tick, 250);
}

startRoomPage({
  handlers: {
    ...callHandlers,
    ...focusHandlers,
    // Joining while the others work: quiet too (the member may unmute).
    "call.joined": (frame) => {
      callHandlers["call.joined"](frame);
      if (phase === "work") setCallMuted(true);
    },
  },
  setUp: setUpFocus,
  connected: callConnected,
  dropped: callDropped,
  ended() {
    callEnded();
    clearInterval(ticker);
  },
  presenceChanged: drawTables,
  error(frame) {
    if (FOCUS_ERRORS.has(frame.code)) {
      status.textContent = frame.message;
      return true;
    }
    if (!isCallError(frame)) return false;
    onCallError(frame);
    return true;
  },
});

socket.addEventListener("drop", () => {
  status.textContent = gettext("Connection lost. The countdown goes on; reconnecting…");
});
