"""The cluster-scale sweep files: the Kubernetes Indexed Job + merge Job and the SLURM array scripts
run valid `semcom eval` command lines with consistent shard counts."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import parses

REPO = Path(__file__).resolve().parents[3]
JOB = REPO / "deploy" / "k8s" / "eval-job.yaml"
SLURM = REPO / "deploy" / "slurm"


def _expand(text: str, env: dict[str, str]) -> str:
    for name, value in sorted(env.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(f'"${name}"', value).replace(f"${name}", value)
    return text


def test_indexed_job_runs_every_shard_and_the_merge_waits_for_them():
    docs = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(JOB.read_text()) if d}
    assert all(d["metadata"]["namespace"] == "semcom" for d in docs.values())
    env = docs[("ConfigMap", "semcom-eval-sweep")]["data"]
    shards = int(env["SHARDS"])
    job = docs[("Job", "semcom-eval")]["spec"]
    assert job["completionMode"] == "Indexed" and job["completions"] == job["parallelism"] == shards
    (container,) = job["template"]["spec"]["containers"]
    script = _expand(container["args"][0], {**env, "JOB_COMPLETION_INDEX": "3"})
    run, _, marker = script.partition("&&")
    argv = shlex.split(run)
    assert argv[0] == "semcom" and argv[1:3] == ["eval", "run"]
    parses(argv[1:])
    assert argv[argv.index("--shard") + 1] == f"3/{shards}"
    assert argv[argv.index("--out") + 1] == f"/eval/runs/{env['RUN']}.shards/3"
    assert shlex.split(marker) == ["touch", f"/eval/runs/{env['RUN']}.shards/3.done"]
    assert "jpeg:ldpc" in argv and "webp" in argv  # the baseline study
    merge = docs[("Job", "semcom-eval-merge")]["spec"]["template"]["spec"]
    wait = _expand(merge["initContainers"][0]["args"][0], env)
    assert f"/eval/runs/{env['RUN']}.shards/*.done" in wait and f"-ge {shards}" in wait
    merge_cmd, _, report_cmd = _expand(merge["containers"][0]["args"][0], env).partition("&&")
    parses(shlex.split(merge_cmd)[1:])
    parses(shlex.split(report_cmd)[1:])
    assert shlex.split(merge_cmd)[3:] == [f"/eval/runs/{env['RUN']}", f"/eval/runs/{env['RUN']}.shards/*/"]
    claims = {
        v["persistentVolumeClaim"]["claimName"] for spec in (job["template"]["spec"], merge) for v in spec["volumes"]
    }
    assert claims == {"semcom-eval"} and ("PersistentVolumeClaim", "semcom-eval") in docs


@pytest.mark.parametrize("name", ["submit_eval.sh", "eval_array.sbatch", "eval_merge.sbatch"])
def test_slurm_scripts_are_valid_bash(name):
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    done = subprocess.run([bash, "-n", str(SLURM / name)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_slurm_array_runs_its_shard_and_the_merge_joins_them():
    array = (SLURM / "eval_array.sbatch").read_text()
    assert '--shard "$index/$count"' in array and '--out "$RUN_ROOT.shards/$index"' in array
    merge = (SLURM / "eval_merge.sbatch").read_text()
    assert 'semcom eval merge "$RUN_ROOT" "$RUN_ROOT".shards/*/' in merge
    submit = (SLURM / "submit_eval.sh").read_text()
    assert '--array="0-$((shards - 1))"' in submit and '--dependency="afterok:' in submit
    example = submit.split("in 16 tasks:\n", 1)[1].split("# Extra", 1)[0]
    argv = shlex.split(" ".join(line.lstrip("#").strip().rstrip("\\") for line in example.splitlines()))
    assert argv[:4] == ["bash", "deploy/slurm/submit_eval.sh", "runs/baselines_awgn", "16"]
    parses(["eval", "run", *argv[5:], "--out", "x", "--shard", "0/16"])
