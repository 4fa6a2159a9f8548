"""The benches' reading of a server's log (bench/server.py)."""

from pathlib import Path

from bench.server import logged_errors


def test_error_records_are_counted_by_logger_in_both_formats(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text(
        "INFO:     Started server process [9078]\n"
        "2026-12-05 18:24:25,788 ERROR rooms.sockets.base Socket x failed handling a\n"
        "Traceback (most recent call last):\n"
        '  File "/work/main/rooms/sockets/base.py", line 198, in dispatch\n'
        "redis.exceptions.MaxConnectionsError: Too many connections\n"
        "2026-12-05 18:24:25,792 ERROR rooms.sockets.base Socket y failed handling a\n"
        "2026-12-05 18:24:26,001 CRITICAL core.memory gone\n"
        "2026-12-05 18:24:26,002 INFO rooms.liveness an ERROR in a message is no record\n"
        "ERROR:    Exception in ASGI application\n"
    )

    assert logged_errors(log) == {"rooms.sockets.base": 2, "core.memory": 1, "uvicorn": 1}
