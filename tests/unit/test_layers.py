"""Layers only point down: no module imports a layer above its own, lazy imports (inside
functions) included, found by walking every module's AST (issue 23). The coded link reaches the
link by registration (semcom.link.coding), the package root composes the layers."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Lowest first. A module may import its own layer and the layers below it, never one above.
LAYERS: list[set[str]] = [
    {"semcom.config", "semcom.phy", "semcom.samples", "semcom.variants", "semcom.v1"},
    {"semcom.payload", "semcom.analog"},
    {"semcom.link"},
    {"semcom.fec", "semcom.metrics"},
    {"semcom.models"},
    {"semcom.pipeline"},
    {"semcom.rpc"},
    {"sender_service", "channel_sim", "receiver_service", "semcom.eval", "semcom.loadtest", "semcom.ui"},
    {"semcom.cli", "semcom.__main__"},
    {"semcom"},  # the package root: it composes the layers (semcom/__init__.py)
]
OURS = ("semcom", "sender_service", "channel_sim", "receiver_service")


def unit(module: str) -> str:
    """The layer unit of a dotted module name: semcom.<subpackage or module>, or a service package."""
    parts = module.split(".")
    if parts[0] == "semcom":
        return "semcom" if len(parts) == 1 else f"semcom.{parts[1]}"
    return parts[0]


def layer_of(module: str) -> int:
    u = unit(module)
    for level, units in enumerate(LAYERS):
        if u in units:
            return level
    raise AssertionError(f"{module}: its unit {u!r} is in no layer of LAYERS (add it)")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_submodule(dotted: str) -> bool:
    path = REPO.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or path.is_dir()


def _literal_module(node: ast.Call) -> str | None:
    """The module a call `importlib.import_module("x")` / `import_module("x")` / `__import__("x")` names,
    when its first argument is a string constant (an f-string's leading constant part counts: the
    CLI's `import_module(f"semcom.cli.{name}")` imports below semcom.cli)."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name not in ("import_module", "__import__") or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        return str(arg.values[0].value).rstrip(".")
    return None


def imported(tree: ast.AST, package: str = "") -> list[tuple[int, str]]:
    """(line, module) of every import of our packages anywhere in the file, lazy ones included;
    `from semcom import config` counts as semcom.config; relative imports are resolved against
    `package` (the package the file belongs to); importlib / __import__ calls with a literal name count."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                assert package and len(parts) >= 1, f"line {node.lineno}: relative import beyond the top"
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:  # a submodule by name counts as itself; the root's attributes as nothing
                sub = f"{base}.{alias.name}"
                if _is_submodule(sub) or base != "semcom":
                    found.append((node.lineno, sub if _is_submodule(sub) else base))
        elif isinstance(node, ast.Call) and (name := _literal_module(node)):
            found.append((node.lineno, name))
    return [(line, name) for line, name in found if name.split(".")[0] in OURS]


def sources() -> list[Path]:
    files = []
    for package in OURS:
        files += [p for p in (REPO / package).rglob("*.py") if "v1" not in p.relative_to(REPO).parts]
    return sorted(files)


def upward_imports(files: list[Path]) -> list[str]:
    bad = []
    for path in files:
        here = module_name(path)
        package = here if path.name == "__init__.py" else here.rpartition(".")[0]
        for line, name in imported(ast.parse(path.read_text(encoding="utf-8")), package):
            if layer_of(name) > layer_of(here):
                bad.append(f"{path.relative_to(REPO)}:{line}: {here} imports {name} (a higher layer)")
    return bad


def test_no_module_imports_a_higher_layer() -> None:
    files = sources()
    assert len(files) > 100  # the walk sees the package
    bad = upward_imports(files)
    assert not bad, "\n".join(bad)


def test_the_walk_sees_a_lazy_upward_import(tmp_path: Path) -> None:
    """The kind of import that hid a cycle (link -> fec inside a function) is caught."""
    tree = ast.parse("def f():\n    from semcom.fec.transmit import transmit_field_coded\n")
    assert imported(tree) == [(2, "semcom.fec.transmit")]
    assert layer_of("semcom.fec.transmit") > layer_of("semcom.link.transmission")
    assert layer_of("semcom.cli.flags") > layer_of("semcom.fec.bler")


def test_the_walk_resolves_relative_and_importlib_imports() -> None:
    """A relative import or an import by name string is resolved, so neither hides an upward import."""
    lazy_relative = ast.parse("def f():\n    from ..fec import transmit\n    from . import types\n")
    assert imported(lazy_relative, "semcom.link") == [(2, "semcom.fec.transmit"), (3, "semcom.link.types")]
    by_name = ast.parse(
        "import importlib\nm = importlib.import_module('semcom.cli.flags')\ng = __import__('semcom.rpc')\n"
    )
    assert imported(by_name, "semcom.link") == [(2, "semcom.cli.flags"), (3, "semcom.rpc")]
    templated = ast.parse("importlib.import_module(f'semcom.cli.{name}')\n")
    assert imported(templated, "semcom.cli") == [(1, "semcom.cli")]
    upward = [(line, n) for line, n in imported(lazy_relative, "semcom.link") if layer_of(n) > layer_of("semcom.link")]
    assert upward == [(2, "semcom.fec.transmit")]


MAX_LINES = 600
# Over the limit for now, each with its reason; the list only shrinks (it is empty).
TOO_LONG: dict[str, str] = {}


def test_no_module_is_over_600_lines() -> None:
    """Every file one job: a module past 600 lines is doing several (issue 23)."""
    long = {
        str(path.relative_to(REPO)): n
        for path in sources()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert set(long) <= set(TOO_LONG), {k: v for k, v in long.items() if k not in TOO_LONG}
    stale = set(TOO_LONG) - set(long)
    assert not stale, f"no longer over {MAX_LINES} lines, drop from TOO_LONG: {stale}"
