"""The site's server for benchmarks: started the way production starts it."""

import re
import signal
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import yaml

ROOT = Path(__file__).resolve().parent.parent


def web_command(port: int) -> list[str]:
    """docker-compose's `web` command, as it is today, bound to loopback and `port`."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = [str(word) for word in compose["services"]["web"]["command"]]
    for flag, value in (("--host", "127.0.0.1"), ("--port", str(port))):
        command[command.index(flag) + 1] = value
    return [sys.executable, "-m", *command]


# A record at ERROR or above, in the site's log format ("<date> <time> ERROR <logger> ...") or
# in uvicorn's own ("ERROR:    Exception in ASGI application").
_LOGGED_ERROR = re.compile(
    r"^\d{4}-\d\d-\d\d [\d:,.]+ (?:ERROR|CRITICAL) (\S+)|^(?:ERROR|CRITICAL):"
)


def logged_errors(log_path: Path) -> Counter[str]:
    """The error records in a server's log, by logger (uvicorn's own as `uvicorn`): a run
    that delivered everything may still have failed somewhere its clients cannot see."""
    found: Counter[str] = Counter()
    for line in log_path.read_text(errors="replace").splitlines():
        match = _LOGGED_ERROR.match(line)
        if match:
            found[match.group(1) or "uvicorn"] += 1
    return found


def web_environment() -> dict[str, str]:
    """The variables of docker-compose's app environment that tune the process itself
    rather than the site (the allocator's arenas), with their defaults."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    value = str(compose["x-app-environment"]["MALLOC_ARENA_MAX"])
    return {"MALLOC_ARENA_MAX": value.removeprefix("${MALLOC_ARENA_MAX:-").removesuffix("}")}


def run_within(seconds: int, name: str, run: Callable[[], str]) -> str:
    """`run()`, stopped with TimeoutError if it takes longer than `seconds` (a benchmark
    whose server or clients hang must not hang `make bench`)."""

    def timed_out(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"the {name} benchmark ran over {seconds} s")

    previous = signal.signal(signal.SIGALRM, timed_out)
    signal.alarm(seconds)
    try:
        return run()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
