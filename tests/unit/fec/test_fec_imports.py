"""The modules of semcom.fec import one another without a circle (issue 13), lazy imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import semcom.fec

PACKAGE = Path(semcom.fec.__file__).parent


def _imports(path: Path) -> set[str]:
    """semcom.fec modules `path` imports anywhere in the file (module level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "semcom.fec":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith("semcom.fec."):
                found.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[2] for a in node.names if a.name.startswith("semcom.fec."))
    return found


def test_fec_modules_import_each_other_without_a_circle() -> None:
    graph = {p.stem: _imports(p) - {p.stem} for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert graph["amc"] and graph["transmit"] and graph["bler"]  # the parser sees the imports at all
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(module: str, path: list[str]) -> None:
        if state.get(module) == 2 or module not in graph:
            return
        assert state.get(module) != 1, f"import circle: {' -> '.join(path + [module])}"
        state[module] = 1
        for imported in sorted(graph[module]):
            visit(imported, path + [module])
        state[module] = 2

    for module in sorted(graph):
        visit(module, [])


def test_the_circle_detector_sees_a_circle(tmp_path: Path) -> None:
    """The parser picks up a lazy import inside a function (the kind that made the old circle)."""
    source = tmp_path / "x.py"
    source.write_text("def f():\n    from semcom.fec.transmit import transmit_field_coded\n", encoding="utf-8")
    assert _imports(source) == {"transmit"}
