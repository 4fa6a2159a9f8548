// The stage page (docs/stage.md, docs/websocket-protocol.md "Stage"): the room's chat and
// presence (static/js/room/page.js) beside a stage whose media flow through Janus. The page
// opens its own Janus session with the token from `stage.hello`; the site joins its
// handles to the stage's room (`stage.watch`, `stage.publish`), then the page and Janus
// negotiate the media directly.

import { chatHandlers } from "./room/chat.js";
import { button, element } from "./room/dom.js";
import { live, send } from "./room/live.js";
import { startRoomPage } from "./room/page.js";
import { JanusSession, nextEvent } from "./stage/janus.js";

const $ = (id) => document.getElementById(id);
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 15_000;
const ACTIVE_SPEAKER_EVERY_MS = 700;

const stage = {
  janus: null, // {url, token} from stage.hello, or null when the site has no media server
  iceServers: [],
  renewTimer: null,
  host: false,
  state: null, // the latest stage.state
  session: null, // JanusSession
  retry: FIRST_RETRY_MS,
  retryTimer: null,
  watching: null, // {handle, connection, feeds: "1,2", streams: Map mid -> feed}
  publishing: null, // {handle, connection, stream, feed, screen}
  preview: null, // the green room's MediaStream
  handRaised: false,
  countdown: null,
  active: null, // the feed speaking loudest
  dismissed: false, // the host closed the green room: reopened from the host's panel
  resume: false, // was live when Janus went away: go live again once it is back
  opening: null, // the session being opened
  soundBlocked: false, // the browser would not play sound before a click
  focusHand: false, // the focus waits on the page to go to raising one's hand once it is drawn
};
const feedStreams = new Map(); // feed -> MediaStream of what arrives from it

function status(message) {
  $("stage-status").textContent = message;
}

function mySpeaker() {
  return stage.state?.speakers.find((speaker) => speaker.user.id === live.me.id) || null;
}

// The media server ------------------------------------------------------------------------

function unavailable(shown) {
  $("stage-unavailable").hidden = !shown;
}

function scheduleReconnect() {
  clearTimeout(stage.retryTimer);
  send({ type: "stage.token" }); // a page open for hours outlives its token
  const delay = stage.retry / 2 + Math.random() * (stage.retry / 2);
  stage.retry = Math.min(stage.retry * 2, MAX_RETRY_MS);
  stage.retryTimer = setTimeout(() => sync(), delay);
}

// One session per page, opened once even when watching and going live ask at once.
function ensureSession() {
  if (stage.session) return Promise.resolve(stage.session);
  stage.opening ??= openSession().finally(() => {
    stage.opening = null;
  });
  return stage.opening;
}

async function openSession() {
  const session = new JanusSession(stage.janus.url, stage.janus.token);
  try {
    await session.open();
  } catch {
    unavailable(true);
    status(gettext("The stage's media server does not answer. Trying again…"));
    scheduleReconnect();
    return null;
  }
  session.addEventListener("lost", () => {
    if (stage.session !== session) return;
    // Janus restarted (or this page was sent away): start again with a new session.
    stage.session = null;
    dropWatching();
    if (stage.publishing) {
      stage.resume = true;
      send({ type: "stage.unpublish" }); // nobody waits for a feed that is gone
    }
    dropPublishing({ keepPreview: true });
    status(gettext("The stage's media server is gone. Reconnecting…"));
    unavailable(true);
    scheduleReconnect();
  });
  stage.session = session;
  stage.retry = FIRST_RETRY_MS;
  unavailable(false);
  return session;
}

function peerConnection() {
  return new RTCPeerConnection({ iceServers: stage.iceServers });
}

function trickleTo(handle, connection) {
  connection.addEventListener("icecandidate", (event) => {
    handle.trickle(event.candidate ? event.candidate.toJSON() : null);
  });
}

// Watching: one subscriber handle for every live speaker but me ----------------------------

function liveFeeds() {
  return (stage.state?.speakers || [])
    .filter((speaker) => speaker.feed && speaker.user.id !== live.me.id)
    .map((speaker) => speaker.feed)
    .sort((a, b) => a - b);
}

function dropWatching() {
  const watching = stage.watching;
  stage.watching = null;
  if (!watching) return;
  watching.connection?.close();
  watching.handle?.detach();
  feedStreams.clear();
}

async function watch(feeds) {
  const session = await ensureSession();
  if (!session) return;
  const handle = await session.attach();
  const watching = { handle, connection: null, feeds: feeds.join(","), streams: new Map() };
  stage.watching = watching;
  const offered = nextEvent(handle, ({ jsep }) => Boolean(jsep));
  if (!send({ type: "stage.watch", session: session.id, handle: handle.id, feeds })) {
    dropWatching();
    return;
  }
  const { data, jsep } = await offered;
  if (stage.watching !== watching) return;
  for (const stream of data.streams || []) watching.streams.set(String(stream.mid), stream.feed_id);
  const connection = peerConnection();
  watching.connection = connection;
  trickleTo(handle, connection);
  connection.addEventListener("track", (event) => {
    const feed = watching.streams.get(String(event.transceiver.mid));
    if (!feed) return;
    let stream = feedStreams.get(feed);
    if (!stream) {
      stream = new MediaStream();
      feedStreams.set(feed, stream);
    }
    stream.addTrack(event.track);
    draw();
  });
  connection.addEventListener("connectionstatechange", () => {
    if (connection.connectionState === "failed" && stage.watching === watching) {
      dropWatching();
      sync();
    }
  });
  await connection.setRemoteDescription(jsep);
  await connection.setLocalDescription(await connection.createAnswer());
  await handle.message({ request: "start" }, connection.localDescription.toJSON());
  status("");
}

// Publishing: the host and invited speakers ---------------------------------------------

// Camera and microphone; a speaker with no camera (or one another program holds) goes on
// with the microphone alone.
async function cameraAndMicrophone() {
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
  } catch (error) {
    if (error.name !== "NotFoundError" && error.name !== "NotReadableError" && error.name !== "OverconstrainedError") {
      throw error;
    }
    return navigator.mediaDevices.getUserMedia({ audio: true });
  }
}

function stopStream(stream) {
  for (const track of stream?.getTracks() || []) track.stop();
}

function dropPublishing({ keepPreview = false } = {}) {
  const publishing = stage.publishing;
  stage.publishing = null;
  if (!publishing) return;
  publishing.connection?.close();
  publishing.handle?.detach();
  publishing.screenTrack?.stop();
  if (!keepPreview) stopStream(publishing.stream);
  const controls = $("stage-my-controls");
  const hadFocus = controls.contains(document.activeElement);
  controls.hidden = true;
  // Focus hidden with the controls would fall to the top of the page: back in the audience,
  // it goes to raising one's hand. Janus may hang up before the stage's state says I left,
  // so until the hand is drawn the focus waits on the page and draw() moves it on.
  if (hadFocus) {
    stage.focusHand = true;
    document.getElementById("main")?.focus();
    requestAnimationFrame(focusHandIfPending);
  }
}

function focusHandIfPending() {
  const hand = $("stage-hand");
  if (!stage.focusHand || !hand?.offsetParent) return;
  stage.focusHand = false;
  // Only if the member has not moved on meanwhile.
  const active = document.activeElement;
  if (!active || active === document.body || active.id === "main") hand.focus();
}

async function publish(stream) {
  const session = await ensureSession();
  if (!session) return;
  const handle = await session.attach();
  const publishing = { handle, connection: null, stream, feed: null, screenTrack: null };
  stage.publishing = publishing;
  const joined = nextEvent(handle, ({ data }) => data.videoroom === "joined");
  // Janus took the feed out (the host sent me back, or my network dropped long enough for
  // the site to take me off the stage): start again if I am still invited.
  handle.addEventListener("hangup", () => {
    if (stage.publishing !== publishing) return;
    stage.resume = true; // once the stage's next state says I am still on it
    dropPublishing({ keepPreview: true });
  });
  if (!send({ type: "stage.publish", session: session.id, handle: handle.id })) {
    dropPublishing({ keepPreview: true });
    return;
  }
  await joined;
  if (stage.publishing !== publishing) return;
  const connection = peerConnection();
  publishing.connection = connection;
  trickleTo(handle, connection);
  // The microphone first: it is stream "0", the one the host can mute (stage/services.py).
  for (const kind of ["audio", "video"]) {
    for (const track of stream.getTracks().filter((t) => t.kind === kind)) {
      connection.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    }
  }
  connection.addEventListener("connectionstatechange", () => {
    if (stage.publishing !== publishing) return;
    if (connection.connectionState === "connected") {
      send({ type: "stage.live", screen: Boolean(publishing.screenTrack) });
      status(gettext("You are live."));
    } else if (connection.connectionState === "failed") {
      status(gettext("Your connection to the stage failed. Trying again…"));
      send({ type: "stage.unpublish" });
      stage.resume = true;
      dropPublishing({ keepPreview: true });
      setTimeout(() => sync(), 1000);
    }
  });
  const answered = nextEvent(handle, ({ jsep }) => Boolean(jsep));
  await connection.setLocalDescription(await connection.createOffer());
  await handle.message({ request: "publish", audio: true, video: true }, connection.localDescription.toJSON());
  const { jsep } = await answered;
  await connection.setRemoteDescription(jsep);
  $("stage-green-room").hidden = true;
  $("stage-my-controls").hidden = false;
  stage.focusHand = false; // live again: the focus no longer waits to go to the hand
  // The screen takes the camera's place: with no camera (microphone only) there is none.
  $("stage-share").hidden = !navigator.mediaDevices?.getDisplayMedia || !stream.getVideoTracks().length;
  setPressed($("stage-mic"), false);
  setPressed($("stage-camera"), false);
  setPressed($("stage-share"), false);
  draw();
}

function setPressed(control, pressed) {
  control.setAttribute("aria-pressed", String(pressed));
}

async function toggleScreen() {
  const publishing = stage.publishing;
  if (!publishing?.connection) return;
  const sender = publishing.connection.getSenders().find((s) => s.track?.kind === "video" || s.track === null);
  if (!sender) return;
  if (publishing.screenTrack) {
    publishing.screenTrack.stop();
    publishing.screenTrack = null;
    await sender.replaceTrack(publishing.stream.getVideoTracks()[0] || null);
  } else {
    let screen;
    try {
      screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
    } catch {
      return; // the member changed their mind
    }
    const track = screen.getVideoTracks()[0];
    publishing.screenTrack = track;
    track.addEventListener("ended", () => {
      if (publishing.screenTrack === track) toggleScreen();
    });
    await sender.replaceTrack(track);
  }
  setPressed($("stage-share"), Boolean(publishing.screenTrack));
  send({ type: "stage.live", screen: Boolean(publishing.screenTrack) });
  draw();
}

// The green room: an invited member checks camera and microphone before going live ------

let meterTimer = null;

async function openGreenRoom() {
  const room = $("stage-green-room");
  if (!room.hidden || stage.publishing) return;
  room.hidden = false;
  // The host is not "invited": they are about to open their own session.
  $("green-room-title").textContent = stage.state?.host?.id === live.me.id
    ? gettext("Before you go live")
    : gettext("You're invited to the stage");
  if (!document.activeElement?.matches("textarea, input, select")) $("green-room-title").focus();
  $("stage-go-live").disabled = true;
  $("green-status").textContent = gettext("Asking for your camera and microphone…");
  try {
    const preview = await cameraAndMicrophone();
    if (stage.preview !== preview) stopStream(stage.preview);
    stage.preview = preview;
  } catch {
    $("green-status").textContent = gettext(
      "Your browser did not give the camera and microphone. Allow them for this site and try again.",
    );
    return;
  }
  $("green-preview").srcObject = stage.preview;
  $("green-status").textContent = "";
  $("stage-go-live").disabled = false;
  meter(stage.preview);
}

function meter(stream) {
  clearInterval(meterTimer);
  const track = stream.getAudioTracks()[0];
  if (!track) return;
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(new MediaStream([track])).connect(analyser);
  const samples = new Uint8Array(analyser.fftSize);
  meterTimer = setInterval(() => {
    if ($("stage-green-room").hidden) {
      clearInterval(meterTimer);
      context.close();
      return;
    }
    analyser.getByteTimeDomainData(samples);
    let peak = 0;
    for (const sample of samples) peak = Math.max(peak, Math.abs(sample - 128) / 128);
    $("green-level").value = peak;
  }, 150);
}

function closeGreenRoom() {
  $("stage-green-room").hidden = true;
  if (!stage.publishing) {
    stopStream(stage.preview);
    stage.preview = null;
  }
}

// Drawing the stage -----------------------------------------------------------------------

function videoFor(stream, { muted = false } = {}) {
  const video = element("video");
  video.autoplay = true;
  video.playsInline = true;
  video.muted = muted || stage.soundBlocked;
  video.srcObject = stream;
  // A browser that plays sound only after a click on the page (someone arriving from a
  // link) plays the stage muted, and the page offers the sound.
  video.play?.()?.catch(() => {
    video.muted = true;
    stage.soundBlocked = true;
    $("stage-sound").hidden = false;
    video.play().catch(() => {});
  });
  return video;
}

function speakerTile(speaker, large) {
  const mine = speaker.user.id === live.me.id;
  const stream = mine ? stage.publishing?.stream : feedStreams.get(speaker.feed);
  const tile = element(large ? "div" : "li", "stage-tile");
  tile.dataset.userId = speaker.user.id;
  if (speaker.feed) tile.dataset.feed = speaker.feed;
  if (stream) {
    let shown = stream;
    if (mine && stage.publishing?.screenTrack) shown = new MediaStream([stage.publishing.screenTrack]);
    tile.append(videoFor(shown, { muted: mine }));
  } else {
    tile.append(element("p", "stage-tile-waiting", gettext("Getting ready…")));
  }
  const label = [speaker.user.name];
  if (speaker.screen) label.push(gettext("(sharing the screen)"));
  if (speaker.muted) label.push(gettext("(muted by the host)"));
  tile.append(element("p", "stage-tile-name", label.join(" ")));
  return tile;
}

function tileKey(speaker) {
  const mine = speaker.user.id === live.me.id;
  const stream = mine ? stage.publishing?.stream : feedStreams.get(speaker.feed);
  return [speaker.user.id, speaker.feed, speaker.screen, speaker.muted, stream?.id, stream?.getTracks().length].join(":");
}

// Who is large: a shared screen, else who speaks loudest, else the host.
function largeSpeaker(onStage) {
  return (
    onStage.find((speaker) => speaker.screen) ||
    onStage.find((speaker) => speaker.feed && speaker.feed === stage.active) ||
    onStage.find((speaker) => speaker.user.id === stage.state.host?.id) ||
    onStage[0]
  );
}

function draw() {
  const state = stage.state;
  if (!state) return;
  const isLive = state.state === "live";
  const onStage = state.speakers.filter(
    (speaker) => speaker.feed || (speaker.user.id === live.me.id && stage.publishing?.connection),
  );
  $("stage-off").hidden = isLive;
  $("stage-off-text").textContent =
    state.state === "ended"
      ? gettext("This session has ended.")
      : gettext("The session has not started yet. Stay here: it starts on this page.");
  $("stage-screen").hidden = !isLive;
  $("stage-audience-tools").hidden = !isLive || Boolean(mySpeaker());
  $("stage-badge").textContent = isLive ? gettext("Live") : gettext("Stage");
  $("stage-badge").classList.toggle("is-live", isLive);
  const large = $("stage-large");
  const smalls = $("stage-speakers");
  const big = largeSpeaker(onStage);
  // Keep a tile whose speaker and stream did not change: its video keeps playing.
  const wanted = big ? tileKey(big) : "";
  if (large.dataset.shown !== wanted) {
    large.replaceChildren(...(big ? [speakerTile(big, true)] : []));
    large.dataset.shown = wanted;
  }
  const rest = onStage.filter((speaker) => speaker !== big);
  const restKey = rest.map(tileKey).join("|");
  if (smalls.dataset.shown !== restKey) {
    smalls.replaceChildren(...rest.map((speaker) => speakerTile(speaker, false)));
    smalls.dataset.shown = restKey;
  }
  if (!isLive) {
    large.replaceChildren();
    large.dataset.shown = "";
  }
  const me = mySpeaker();
  $("stage-muted-note").hidden = !me?.muted;
  // The hand follows the stage's own list (an invitation lowers it).
  stage.handRaised = state.hands.some((hand) => hand.id === live.me.id);
  setPressed($("stage-hand"), stage.handRaised);
  $("stage-hand").textContent = stage.handRaised ? gettext("Lower your hand") : gettext("Raise your hand");
  requestAnimationFrame(focusHandIfPending);
  drawHost();
}

function drawHost() {
  if (!stage.host || !$("stage-host")) return;
  const state = stage.state;
  const isLive = state.state === "live";
  $("stage-start")?.toggleAttribute("hidden", isLive);
  $("stage-end").hidden = !isLive;
  $("stage-host-go").hidden = !isLive || Boolean(stage.publishing) || !$("stage-green-room").hidden;
  const hands = state.hands.map((hand) => {
    const item = element("li", "", `${hand.name} `);
    item.dataset.id = hand.id;
    const invite = button(gettext("Invite to the stage"), () => send({ type: "stage.invite", user_id: hand.id }));
    named(invite, "invite", interpolate(gettext("Invite %s to the stage"), [hand.name]));
    item.append(invite);
    return item;
  });
  replaceKeepingFocus($("stage-hands"), hands);
  $("stage-no-hands").hidden = state.hands.length > 0;
  const guests = state.speakers
    .filter((speaker) => speaker.user.id !== state.host?.id)
    .map((speaker) => {
      const name = speaker.user.name;
      const item = element("li", "", `${name} `);
      item.dataset.id = speaker.user.id;
      item.append(element("span", "muted", speaker.feed ? gettext("live") : gettext("invited")), " ");
      if (speaker.feed) {
        const mute = button(speaker.muted ? gettext("Unmute") : gettext("Mute"), () =>
          send({ type: "stage.mute", user_id: speaker.user.id, muted: !speaker.muted }),
        );
        const label = speaker.muted ? gettext("Let %s speak again") : gettext("Mute %s's microphone");
        named(mute, "mute", interpolate(label, [name]));
        item.append(mute, " ");
      }
      const back = button(gettext("Back to the audience"), () => send({ type: "stage.return", user_id: speaker.user.id }));
      named(back, "return", interpolate(gettext("Send %s back to the audience"), [name]));
      const remove = button(
        gettext("Remove from the event"),
        () => {
          if (confirm(gettext("Remove this member from the event? They cannot come back."))) {
            send({ type: "stage.remove", user_id: speaker.user.id });
          }
        },
        "button-small button-danger",
      );
      named(remove, "remove", interpolate(gettext("Remove %s from the event"), [name]));
      item.append(back, " ", remove);
      return item;
    });
  replaceKeepingFocus($("stage-manage"), guests);
}

function named(control, action, label) {
  control.dataset.action = action;
  control.setAttribute("aria-label", label);
}

// Lists redrawn on every change keep the keyboard's place: the control that had focus is
// found again in the new list by its item's id and its action (or the list takes focus).
function replaceKeepingFocus(list, items) {
  const focused = list.contains(document.activeElement) ? document.activeElement : null;
  const id = focused?.closest("li[data-id]")?.dataset.id;
  const action = focused?.dataset.action;
  list.replaceChildren(...items);
  if (!focused) return;
  const again = list.querySelector(`li[data-id="${id}"] [data-action="${action}"]`);
  if (again) {
    again.focus();
  } else {
    list.tabIndex = -1;
    list.focus();
  }
}

// Bringing the page in line with the stage's state -----------------------------------------

let syncing = false;
let syncAgain = false;

async function sync() {
  if (syncing) {
    syncAgain = true;
    return;
  }
  syncing = true;
  try {
    await syncOnce();
  } catch (error) {
    status(gettext("Something went wrong with the stage's media. Trying again…"));
    console.warn("stage", error);
    dropWatching();
    if (stage.publishing && stage.publishing.connection?.connectionState !== "connected") {
      stage.resume = true;
      dropPublishing({ keepPreview: true });
    }
    scheduleReconnect();
  } finally {
    syncing = false;
    if (syncAgain) {
      syncAgain = false;
      sync();
    }
  }
}

async function syncOnce() {
  const state = stage.state;
  if (!state || live.ended) return;
  draw();
  if (state.state !== "live") {
    dropWatching();
    dropPublishing();
    closeGreenRoom();
    return;
  }
  if (!stage.janus) {
    unavailable(true);
    return;
  }
  const me = mySpeaker();
  if (!me && stage.publishing) {
    dropPublishing(); // sent back to the audience
    status(gettext("You are back in the audience."));
  }
  if (me && !stage.publishing && stage.resume && stage.preview) {
    await publish(stage.preview); // back after a fault: no green room again
    if (!stage.publishing) return; // no media server yet: ensureSession set a retry
    stage.resume = false;
  }
  // Invited (the host is, from the start): the green room, to check camera and microphone.
  // Not awaited: a permission prompt left open must not hold up the stage's updates.
  if (me && !stage.publishing && !stage.dismissed) openGreenRoom();
  if (!me) {
    closeGreenRoom();
    stage.dismissed = false;
    stage.resume = false;
  }
  const feeds = liveFeeds();
  const key = feeds.join(",");
  if (stage.watching && stage.watching.feeds !== key) dropWatching();
  if (!stage.watching && feeds.length) await watch(feeds);
}

function onState(frame) {
  // Two changes' broadcasts may arrive in either order: the later change has the higher
  // version. A hello (after a reconnection too) is read fresh, so it is always taken.
  if (frame.type === "stage.state" && frame.version < (stage.state?.version ?? 0)) return;
  stage.state = frame;
  // Something changed: try now rather than when the backoff says.
  clearTimeout(stage.retryTimer);
  stage.retry = FIRST_RETRY_MS;
  sync();
}

function watchActiveSpeaker() {
  setInterval(() => {
    const receivers = stage.watching?.connection?.getReceivers() || [];
    let loudest = null;
    let level = 0.02;
    for (const receiver of receivers) {
      if (receiver.track.kind !== "audio") continue;
      const source = receiver.getSynchronizationSources?.()[0];
      if (source && source.audioLevel > level) {
        level = source.audioLevel;
        loudest = stage.watching.streams.get(String(receiver.transceiver?.mid ?? ""));
      }
    }
    if (loudest && loudest !== stage.active) {
      stage.active = loudest;
      draw();
    }
  }, ACTIVE_SPEAKER_EVERY_MS);
}

function endedCountdown(frame) {
  const panel = $("stage-ended");
  panel.hidden = false;
  $("stage-cafeteria").href = frame.url;
  let left = frame.countdown;
  const tick = () => {
    $("stage-countdown").textContent = interpolate(gettext("Taking you to the cafeteria in %s s."), [left]);
    if (left <= 0) {
      location.assign(frame.url);
      return;
    }
    left -= 1;
    stage.countdown = setTimeout(tick, 1000);
  };
  tick();
  // The focus lands on the heading alone: its description, there before it, says what
  // happens next and how to stay (the countdown itself is not read out every second).
  const title = $("stage-ended-title");
  title.setAttribute("aria-describedby", "stage-ended-text stage-countdown stage-stay-hint");
  title.focus();
}

// Questions (the Q&A): the chat's messages asked as questions, most voted (👍) first, drawn
// from the chat log as static/js/room/chat.js keeps it, so they follow its edits, deletions
// and reactions. Those asked before the log's first page come with stage.hello and are
// kept here, following the same frames, until the log holds them too.
const VOTE = "👍";
const earlierQuestions = new Map(); // message id -> question, as drawQuestions reads them
let questionsPending = false;

function questionFrom(message) {
  const votes = message.reactions?.find((reaction) => reaction.emoji === VOTE)?.members || [];
  return {
    id: message.id,
    author: message.author?.name || "",
    text: message.text,
    votes: votes.length,
    mine: votes.includes(live.me.id),
    version: message.reactions_version ?? 0,
  };
}

function keepQuestions(messages) {
  earlierQuestions.clear();
  for (const message of messages || []) earlierQuestions.set(message.id, questionFrom(message));
  scheduleQuestions();
}

// The chat's own handling first, then the kept questions it may be about.
const questionHandlers = {
  "chat.edited": (frame) => {
    chatHandlers["chat.edited"](frame);
    const question = earlierQuestions.get(frame.message.id);
    if (question) question.text = frame.message.text;
    scheduleQuestions();
  },
  "chat.deleted": (frame) => {
    chatHandlers["chat.deleted"](frame);
    earlierQuestions.delete(frame.id);
    scheduleQuestions();
  },
  "chat.reactions": (frame) => {
    chatHandlers["chat.reactions"](frame);
    const question = earlierQuestions.get(frame.id);
    // Two votes' counts can arrive in either order: the older is dropped.
    if (question && !(frame.version < question.version)) {
      const { votes, mine } = questionFrom({ id: frame.id, text: "", reactions: frame.reactions });
      Object.assign(question, { votes, mine, version: frame.version });
    }
    scheduleQuestions();
  },
};

function drawQuestions() {
  questionsPending = false;
  const asked = [...document.querySelectorAll("#messages > li.is-question[data-id]:not([data-deleted])")].map(
    (item) => {
      const vote = item.querySelector(`.message-reactions button.reaction[data-emoji="${VOTE}"]`);
      return {
        id: Number(item.dataset.id),
        author: item.querySelector(".message-author")?.textContent || "",
        text: item.querySelector(".message-text")?.textContent || "",
        votes: vote ? Number(vote.textContent.split(" ").pop()) || 0 : 0,
        mine: vote?.getAttribute("aria-pressed") === "true",
      };
    },
  );
  // The log's own copy wins (deleted there, it is gone): the chat keeps it up to date.
  const inLog = new Set([...document.querySelectorAll("#messages > li[data-id]")].map((item) => Number(item.dataset.id)));
  for (const [id, question] of earlierQuestions) {
    if (!inLog.has(id)) asked.push(question);
  }
  asked.sort((a, b) => b.votes - a.votes || a.id - b.id);
  replaceKeepingFocus(
    $("questions-list"),
    asked.map((question) => {
      const item = element("li");
      item.dataset.id = question.id;
      item.append(element("p", "question-text", question.text), element("p", "question-author muted", question.author));
      const label = interpolate(ngettext("%s vote", "%s votes", question.votes), [question.votes]);
      const vote = button(`${VOTE} ${label}`, () => send({ type: "chat.react", id: question.id, emoji: VOTE }));
      vote.setAttribute("aria-pressed", String(question.mine));
      vote.dataset.action = "vote";
      // Named by what it shows, after what it does (WCAG's "label in name").
      vote.prepend(element("span", "visually-hidden", gettext("Vote for this question:") + " "));
      item.append(vote);
      return item;
    }),
  );
  $("questions-none").hidden = asked.length > 0;
}

function scheduleQuestions() {
  if (questionsPending) return;
  questionsPending = true;
  requestAnimationFrame(drawQuestions);
}

function watchQuestions() {
  new MutationObserver(scheduleQuestions).observe($("messages"), { childList: true, subtree: true, attributes: true, characterData: true });
  drawQuestions();
}

const stageHandlers = {
  "stage.hello": (frame) => {
    stage.janus = frame.janus;
    stage.iceServers = frame.ice_servers || [];
    // TURN credentials (and the Janus token) expire: a speaker who goes live an hour in,
    // and every new subscription, need new ones.
    clearInterval(stage.renewTimer);
    if (frame.ice_refresh) {
      stage.renewTimer = setInterval(() => send({ type: "stage.token" }), frame.ice_refresh * 1000);
    }
    stage.host = Boolean(frame.can_host);
    keepQuestions(frame.questions);
    if (!frame.janus) unavailable(true);
    onState(frame);
  },
  "stage.state": onState,
  "stage.joined": () => {},
  "stage.token": (frame) => {
    if (stage.janus && frame.token) stage.janus.token = frame.token;
    if (frame.ice_servers) stage.iceServers = frame.ice_servers;
  },
  "stage.ended": (frame) => {
    dropWatching();
    dropPublishing();
    endedCountdown(frame);
  },
  ...questionHandlers,
};

function setUp() {
  $("stage-start")?.addEventListener("click", () => send({ type: "stage.start" }));
  $("stage-end")?.addEventListener("click", () => {
    if (confirm(gettext("End the session for everyone? Everyone is invited to the cafeteria."))) {
      send({ type: "stage.end" });
    }
  });
  $("stage-hand").addEventListener("click", () => {
    send({ type: "stage.hand", raised: !stage.handRaised });
  });
  $("stage-go-live").addEventListener("click", async () => {
    $("stage-go-live").disabled = true;
    try {
      await publish(stage.preview);
    } catch (error) {
      console.warn("stage publish", error);
      $("green-status").textContent = gettext("Going live failed. Try again.");
      dropPublishing({ keepPreview: true });
      $("stage-go-live").disabled = false;
    }
  });
  $("stage-decline").addEventListener("click", () => {
    closeGreenRoom();
    if (mySpeaker()?.user.id === stage.state.host?.id) {
      stage.dismissed = true;
      draw();
    } else if (mySpeaker()) {
      send({ type: "stage.return", user_id: live.me.id });
    }
  });
  $("stage-host-go")?.addEventListener("click", () => {
    stage.dismissed = false;
    openGreenRoom();
  });
  $("stage-leave").addEventListener("click", () => {
    if (mySpeaker()?.user.id === stage.state.host?.id) {
      send({ type: "stage.unpublish" });
      dropPublishing();
      stage.dismissed = true;
      draw();
    } else {
      send({ type: "stage.return", user_id: live.me.id });
    }
  });
  $("stage-mic").addEventListener("click", () => {
    const track = stage.publishing?.stream.getAudioTracks()[0];
    if (!track) return;
    track.enabled = !track.enabled;
    setPressed($("stage-mic"), !track.enabled);
  });
  $("stage-camera").addEventListener("click", () => {
    const track = stage.publishing?.stream.getVideoTracks()[0];
    if (!track) return;
    track.enabled = !track.enabled;
    setPressed($("stage-camera"), !track.enabled);
  });
  $("stage-share").addEventListener("click", () => toggleScreen());
  $("stage-sound").addEventListener("click", () => {
    stage.soundBlocked = false;
    $("stage-sound").hidden = true;
    for (const video of document.querySelectorAll("#stage-screen .stage-tile video")) {
      if (!video.closest(`[data-user-id="${live.me.id}"]`)) video.muted = false;
    }
  });
  $("stage-stay").addEventListener("click", () => {
    clearTimeout(stage.countdown);
    $("stage-countdown").textContent = "";
    // The hint goes with the countdown; named, even hidden words would still describe.
    $("stage-stay-hint").hidden = true;
    $("stage-ended-title").setAttribute("aria-describedby", "stage-ended-text");
  });
  if (!navigator.mediaDevices?.getDisplayMedia) $("stage-share").hidden = true;
  watchActiveSpeaker();
  watchQuestions();
}

function countPresent() {
  $("stage-count").textContent = String(document.querySelectorAll("#presence > li").length);
}

startRoomPage({
  handlers: stageHandlers,
  setUp,
  connected: countPresent,
  presenceChanged: countPresent,
  dropped() {
    status(gettext("Connection lost. Reconnecting…"));
  },
  ended() {
    dropWatching();
    dropPublishing();
    stage.session?.destroy();
  },
  error(frame) {
    if (!frame.about?.startsWith("stage.")) return false;
    status(frame.message);
    if (frame.about === "stage.publish") {
      dropPublishing({ keepPreview: true });
      $("stage-go-live").disabled = false;
    }
    if (frame.about === "stage.watch") {
      dropWatching();
      scheduleReconnect();
    }
    return true;
  },
});
