"""docs/security.md names, for each protection, the test that proves it: those tests exist."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def test_every_test_the_security_doc_names_exists() -> None:
    text = (ROOT / "docs" / "security.md").read_text()
    named: list[tuple[str, str]] = []
    # `::test_x` alone continues with the file named before it in the same row.
    for row in text.splitlines():
        current = None
        for token in re.findall(r"`([^`]+)`", row):
            if "::" not in token:
                continue
            path, name = token.split("::")
            current = path or current
            named.append((current or "", name))
    assert len(named) > 40
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not (ROOT / path).is_file() or name not in _tests_in(ROOT / path)
    ]
    assert missing == []
