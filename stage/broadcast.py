"""Every broadcast to a stage's sockets (group `stage_<id>`, which only stage pages join:
the room's own page never hears of the stage). Synchronous services send them after
commit through `rooms.broadcast.on_commit`."""

from typing import Any

from rooms.broadcast import encode, group_send


def stage_group(stage_id: int) -> str:
    return f"stage_{stage_id}"


async def stage_state(*, stage_id: int, state: dict[str, Any]) -> None:
    """The stage as everyone sees it (`stage.state`), encoded once for all its sockets."""
    await group_send(
        stage_group(stage_id),
        {
            "type": "stage.state",
            "live": state["state"] == "live",
            "frame": encode({"type": "stage.state", **state}),
            # Who has a hand up: a socket whose member blocks one of them re-encodes the frame
            # without them (StageFrames.stage_state); the others send it as it is.
            "hands": [hand["id"] for hand in state["hands"]],
        },
    )


async def stage_ended(*, stage_id: int, url: str, countdown: int) -> None:
    frame = {"type": "stage.ended", "url": url, "countdown": countdown}
    await group_send(stage_group(stage_id), {"type": "stage.ended", "frame": encode(frame)})
