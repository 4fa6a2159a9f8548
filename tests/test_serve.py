"""`make run`'s server script (bin/serve) says truly whether the stage's Janus started."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, clean_env, free_port

pytestmark = pytest.mark.skipif(shutil.which("janus") is None, reason="Debian's janus")

# Takes the port between bin/serve's look at it and Janus's start, as a second `make run`
# starting at the same moment would, then starts the real Janus, which fails, and lingers
# as a Janus slow to give up would: the port is open and the process alive for a while.
RACING_JANUS = """#!/usr/bin/env bash
python3 -m http.server {port} --bind 127.0.0.1 >/dev/null 2>&1 &
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && break; sleep 0.1; done
{janus} "$@"
sleep 3
"""


def janus_line(tmp_path: Path, path: str) -> str:
    """What bin/serve says about Janus, with `path` as PATH; the script is stopped then."""
    env = clean_env(
        PATH=path,
        JANUS_HTTP_PORT=str(free_port()),
        SERVE_RUN_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    )
    serve = subprocess.Popen(
        ["bin/serve", f"127.0.0.1:{free_port()}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert serve.stdout is not None
        said = []
        deadline = time.monotonic() + 60
        for line in serve.stdout:
            if line.startswith("Janus") or time.monotonic() > deadline:
                return line.strip()
            said.append(line)
        return "".join(said)  # it ended without a word on Janus: what it said instead
    finally:
        # Again until it ends: a child started as the first signal went out missed it.
        deadline = time.monotonic() + 30
        while serve.poll() is None:
            assert time.monotonic() < deadline
            with contextlib.suppress(ProcessLookupError):
                os.killpg(serve.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                serve.wait(timeout=0.5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(serve.pid, signal.SIGKILL)  # what is left of the group


def test_janus_is_reported_started_only_when_it_answers_with_this_run_s_secret(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # As `make run` starts it: outside the suite's environment, whose python has no uv.
    venv = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != venv)
    started = janus_line(tmp_path_factory.mktemp("serve"), path)
    assert started.startswith("Janus (the stage's media server) started"), started

    wrapper = tmp_path_factory.mktemp("racing")
    racing = RACING_JANUS.format(port="$JANUS_HTTP_PORT", janus=shutil.which("janus"))
    (wrapper / "janus").write_text(racing)
    (wrapper / "janus").chmod(0o755)
    refused = janus_line(tmp_path_factory.mktemp("serve"), f"{wrapper}:{path}")
    assert refused.startswith("Janus did not start"), refused
