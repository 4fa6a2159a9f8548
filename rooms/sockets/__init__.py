"""Building blocks of the member sockets; the consumers themselves are in rooms/consumers.py.
The module map is in docs/websocket-protocol.md."""
