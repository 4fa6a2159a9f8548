"""Static files as production collects them (collectstatic with DEBUG off)."""

import json
import posixpath
import re
from pathlib import Path

# The statements the site's modules load one another with (see core/storage.py).
MODULE_IMPORT = re.compile(
    r"""^(?:import|export)\b[^;"']*?\bfrom\s*["'](?P<url>[^"']+)["'];""", re.MULTILINE
)


def test_the_room_modules_load_one_another_by_their_hashed_names(collected_static: Path) -> None:
    manifest = json.loads((collected_static / "staticfiles.json").read_text())["paths"]
    hashed = set(manifest.values())
    loaded, waiting = set(), [manifest["js/room.js"]]

    while waiting:
        name = waiting.pop()
        loaded.add(name)
        for match in MODULE_IMPORT.finditer((collected_static / name).read_text()):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), match["url"]))
            assert target in hashed, f"{name} imports {match['url']}, which is no hashed file"
            if target not in loaded:
                waiting.append(target)

    assert {manifest["js/call.js"], manifest["js/room/chat.js"]} <= loaded
