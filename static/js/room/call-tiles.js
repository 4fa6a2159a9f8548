// The call's tiles: one per person at the table, mine first, each showing a picture (camera
// or shared screen) or initials, with notes for muted, sharing and still connecting.

import { element, fill } from "./dom.js";
import { live } from "./live.js";

const tiles = document.getElementById("call-tiles");
let selfStream = null;

function initials(name) {
  const words = name.split(/\s+/).filter((word) => /^[\p{L}\p{N}]/u.test(word));
  return words.slice(0, 2).map((word) => word[0]).join("").toUpperCase() || "?";
}

function buildTile(user, mine) {
  const tile = element("li", "call-tile");
  const video = document.createElement("video");
  video.autoplay = true;
  video.playsInline = true;
  // Our own voice back would echo; our picture is only a mirror.
  video.muted = mine;
  const face = element("span", `call-initials avatar avatar-hue-${user.id % 8}`, initials(user.name));
  face.setAttribute("aria-hidden", "true");
  const caption = element("p", "call-caption");
  const name = mine ? fill(gettext("{name} (you)"), { name: user.name }) : user.name;
  caption.append(
    element("span", "call-name", name),
    element("span", "call-muted", gettext("muted")),
    element("span", "call-sharing", gettext("sharing the screen")),
    element("span", "call-connecting", gettext("connecting…")),
  );
  tile.append(video, face, caption);
  return tile;
}

function updateTile(tile, { audio, video, screen, state, stream }) {
  const showing = video || screen;
  tile.dataset.audio = audio ? "on" : "off";
  tile.dataset.video = showing ? "on" : "off";
  tile.dataset.state = state;
  tile.querySelector(".call-muted").hidden = audio;
  tile.querySelector(".call-sharing").hidden = !screen;
  tile.querySelector(".call-connecting").hidden = state === "connected";
  tile.querySelector(".call-initials").hidden = showing;
  // Hidden, the element still plays the sound of a member who has no camera on.
  const player = tile.querySelector("video");
  player.hidden = !showing;
  if (player.srcObject !== stream) player.srcObject = stream;
}

export function peerTile(peerId) {
  return tiles.querySelector(`li[data-peer="${peerId}"]`);
}

export function showPeer(peer) {
  let tile = peerTile(peer.id);
  if (!tile) {
    tile = buildTile(peer.user, false);
    tile.dataset.peer = peer.id;
    tile.dataset.userId = peer.user.id;
    tiles.append(tile);
  }
  updateTile(tile, peer);
}

/** My own tile, from what `call` (call.js) sends now; gone when the call is idle. */
export function showSelf(call) {
  let tile = tiles.querySelector("li[data-self]");
  if (call.state === "idle") {
    tile?.remove();
    selfStream = null;
    return;
  }
  if (!tile) {
    tile = buildTile({ id: live.me.id, name: live.me.name }, true);
    tile.dataset.self = "";
    tiles.prepend(tile);
  }
  const track = call.outgoingVideo;
  if (selfStream?.getVideoTracks()[0] !== track) selfStream = track ? new MediaStream([track]) : null;
  updateTile(tile, { ...call.media, state: "connected", stream: selfStream });
}

export function showTiles(shown) {
  tiles.hidden = !shown;
}

export function clearTiles() {
  tiles.replaceChildren();
  selfStream = null;
}
