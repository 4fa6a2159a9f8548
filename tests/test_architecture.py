"""docs/architecture.md draws the layers that import-linter enforces (pyproject.toml)."""

import re
import tomllib

from django.apps import apps

from tests.conftest import ROOT


def _contract_layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = config["contracts"]
    return [" | ".join(part.strip() for part in layer.split("|")) for layer in contract["layers"]]


def _drawn_layers() -> list[str]:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    block = doc.split("### Layers", 1)[1].split("```", 2)[1]
    return [re.split(r"\s{2,}", line.strip())[0] for line in block.strip().splitlines()]


def test_the_drawing_matches_the_contract() -> None:
    assert _drawn_layers() == _contract_layers()


def test_every_app_of_ours_has_a_layer() -> None:
    layered = {name for layer in _contract_layers() for name in layer.split(" | ")}
    ours = {
        config.name
        for config in apps.get_app_configs()
        if (ROOT / config.name.split(".")[0]).is_dir() and "." not in config.name
    }
    assert ours <= layered
