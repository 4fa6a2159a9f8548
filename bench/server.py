"""The site's server for benchmarks: started the way production starts it."""

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def web_command(port: int) -> list[str]:
    """docker-compose's `web` command, as it is today, bound to loopback and `port`."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = [str(word) for word in compose["services"]["web"]["command"]]
    for flag, value in (("--host", "127.0.0.1"), ("--port", str(port))):
        command[command.index(flag) + 1] = value
    return [sys.executable, "-m", *command]
