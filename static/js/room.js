// A room's live side (docs/websocket-protocol.md, v1): presence, chat, moderation, calls,
// reconnection. This entry adds the calls (static/js/room/call-ui.js) to what every room
// page shares (static/js/room/page.js; docs/architecture.md, "Front-end modules").

import { callConnected, callDropped, callEnded, callHandlers, drawTables, isCallError, onCallError, setUpCall } from "./room/call-ui.js";
import { startRoomPage } from "./room/page.js";

startRoomPage({
  handlers: callHandlers,
  setUp: setUpCall,
  connected: callConnected,
  dropped: callDropped,
  ended: callEnded,
  presenceChanged: drawTables,
  error(frame) {
    if (!isCallError(frame)) return false;
    onCallError(frame);
    return true;
  },
});
