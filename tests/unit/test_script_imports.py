"""Every `from semcom... import name` in scripts/ and benchmarks/ resolves.

Those files are neither imported by the rest of the suite nor type-checked, so a rename inside the
package (a module moved, a function deleted) would otherwise break a script only when someone runs
it; this caught `semcom.eval.store.derive_seed` after it moved to `semcom.pipeline.seeds`."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted([*ROOT.glob("scripts/*.py"), *ROOT.glob("benchmarks/*.py")])


def semcom_imports(source: str) -> list[tuple[str, str]]:
    """(module, name) of each `from semcom... import name` anywhere in `source` (functions included)."""
    return [
        (node.module, alias.name)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "semcom"
        for alias in node.names
    ]


def test_the_parser_sees_lazy_imports() -> None:
    source = "import os\ndef f():\n    from semcom.pipeline.seeds import posterior_seed, RoleSeeds\n"
    assert semcom_imports(source) == [
        ("semcom.pipeline.seeds", "posterior_seed"),
        ("semcom.pipeline.seeds", "RoleSeeds"),
    ]


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_semcom_imports_of_scripts_resolve(path: Path) -> None:
    for module_name, name in semcom_imports(path.read_text(encoding="utf-8")):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # an optional third-party dependency, not a semcom module
            if (exc.name or "").split(".")[0] == "semcom":
                raise
            pytest.skip(f"{module_name} needs {exc.name}")
        if not hasattr(module, name):  # `from semcom.eval import sweep` names a submodule
            importlib.import_module(f"{module_name}.{name}")
