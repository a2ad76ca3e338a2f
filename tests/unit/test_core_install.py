"""The core install (no extras) is enough for the wire formats, the channel, the client and the
CLI; a command that needs an extra says which, in one line. Simulated by blocking the extras'
modules in a fresh interpreter (an import of a blocked module raises ModuleNotFoundError, exactly
as when it is not installed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from semcom.cli.extras import EXTRA_OF

REPO = Path(__file__).resolve().parents[2]
BLOCK = f"""
import sys
for name in {sorted(EXTRA_OF)!r}:
    sys.modules[name] = None
from semcom.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _core(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK, *args], cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["payload", "--json"],
        ["channel", "ber", "--bits", "4000", "--ebn0-db", "6"],
        ["send", "--help"],
        ["config"],
        ["health", "--help"],
        ["loadtest", "--help"],
    ],
)
def test_core_commands_run_without_any_extra(args) -> None:
    done = _core(*args)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_core_client_modules_import_without_extras() -> None:
    code = BLOCK.split("from semcom.cli")[0] + (
        "import semcom.rpc.client, semcom.rpc.convert, semcom.link.transmission, semcom.pipeline, semcom.payload.latent\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_a_command_that_needs_an_extra_says_which_in_one_line(tmp_path) -> None:
    image = tmp_path / "x.png"
    from PIL import Image

    Image.new("RGB", (8, 8)).save(image)
    done = _core("transmit", str(image), "--profile", "tiny")
    assert done.returncode == 3
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "pip install 'semcom[models]'" in lines[0], done.stderr
    done = _core("channel", "bler", "--help")
    assert done.returncode == 0  # help needs nothing


def test_version_is_the_distributions() -> None:
    from importlib.metadata import version

    done = _core("--version")
    assert done.stdout.strip() == f"semcom {version('semcom')}"


# The core dependencies (pyproject [project] dependencies) by distribution name. Adding one is a
# decision: the core install must stay under 200 MB (scripts/core_install_size.sh measures it; it
# was 131 MB with these). Heavy libraries (scipy, torch, ...) belong in an extra.
CORE_ALLOWED = {
    "numpy",
    "pillow",
    "grpcio",
    "grpcio-health-checking",
    "grpcio-reflection",
    "protobuf",
    "tqdm",
    "unidecode",
    "pyyaml",
}


def test_core_dependencies_are_the_allow_list() -> None:
    import re
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0].lower() for dep in project["dependencies"]}
    assert names <= CORE_ALLOWED, f"not allowed in the core install (put them in an extra): {names - CORE_ALLOWED}"
    assert "scipy" not in names


def test_core_install_size_script_exists_and_enforces_the_budget() -> None:
    script = (REPO / "scripts" / "core_install_size.sh").read_text(encoding="utf-8")
    assert "limit_mb=200" in script and "pip install" in script
