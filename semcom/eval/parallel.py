"""`semcom eval run --jobs N`: one sweep's images over N worker processes on this machine.

Each worker is a fresh process (spawned: a fork of a process that already ran torch's OpenMP is
unsafe) that builds the same `Sweep` from the run's `SweepConfig`, loads the profile and the metric
suite once, then takes the next pending image from a shared queue and runs it exactly as the
sequential sweep does (`Sweep._run_image`: the same seeds, which depend on the image and the cell
only, so every row is the one a sequential run writes). Workers send each finished row to the
parent, which alone appends to results.jsonl (`RunStore.append`): a run interrupted at any point
resumes like a sequential one, and only the order of the rows differs. Captions are fixed in the
parent before the workers start (captions.json has one writer); latents, features and samples are
per image, written atomically by the worker that owns the image; fitted baseline files go through
the shared fit cache (atomic writes). Models or a suite injected into the parent's `Sweep` (tests)
are not seen by the workers.

Each worker runs torch with one thread (N workers, N cores). Workers are not daemons (a baseline
cell's guarded decoder starts a process of its own); a worker whose parent is gone stops at its
next image. Bounded: the parent stops when every
worker has reported the end of its queue, or when one has died or failed (the others are
terminated and the error raised).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import traceback
from typing import Any

log = logging.getLogger(__name__)

_DONE, _ROW, _ERROR = "done", "row", "error"
_POLL_S = 5.0  # how often the parent checks that its workers are alive while waiting for rows


class _QueueStore:
    """The worker's view of the run's store: rows go to the parent; everything else is the store's."""

    def __init__(self, store: Any, out: Any) -> None:
        self._store = store
        self._out = out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def append(self, row: dict[str, Any]) -> None:
        self._out.put((_ROW, row))


def _worker(config: Any, grid_names: list[str], tasks: Any, out: Any, parent: int) -> None:
    import torch
    from tqdm import tqdm

    from semcom.eval.sweep import Sweep
    from semcom.eval.sweep_config import SweepSummary

    torch.set_num_threads(1)
    sweep = Sweep(config)
    sweep._grid_names = set(grid_names)
    sweep.store = _QueueStore(sweep.store, out)  # type: ignore[assignment]  # a RunStore whose rows go to the parent
    try:
        while True:
            task = tasks.get()  # filled before the workers start: never waits for more
            if task is None or os.getppid() != parent:  # the end of the queue, or the parent is gone
                break
            item, pending = task
            sweep._run_image(item, pending, tqdm(disable=True), SweepSummary())  # the parent shows progress
        out.put((_DONE, None))
    except BaseException:  # reported to the parent, which raises it
        out.put((_ERROR, traceback.format_exc()))
    finally:
        if os.getppid() != parent:
            out.cancel_join_thread()  # nobody reads the rows: exit without waiting to flush them
        sweep.close_runners()


def worker_count(jobs: int, images: int) -> int:
    """Workers for `jobs` asked and `images` pending: at most one per image and one per CPU core
    (each worker loads the models: a worker per core is what memory and the cores can carry)."""
    cores = os.cpu_count() or 1
    if jobs > cores:
        log.warning(f"--jobs {jobs}: this machine has {cores} cores; running {min(cores, images)} workers")
    return max(1, min(jobs, images, cores))


def run_images(sweep: Any, todo: list[tuple[Any, list[Any]]], jobs: int, bar: Any, summary: Any) -> None:
    """Run the pending cells of `todo` ((image, cells) pairs) of `sweep` on `jobs` worker processes."""
    from semcom.eval.dataset import load_image

    todo = [(item, pending) for item, pending in todo if pending]
    if not todo:
        return
    jobs = worker_count(jobs, len(todo))
    for item, _ in todo:  # one writer of captions.json: the parent, before the fork
        sweep._caption(item, load_image(item))
    ctx = mp.get_context("spawn")
    tasks: Any = ctx.Queue()
    out: Any = ctx.Queue()
    for task in todo:
        tasks.put(task)
    for _ in range(jobs):
        tasks.put(None)
    workers = [
        ctx.Process(target=_worker, args=(sweep.config, sorted(sweep._grid_names), tasks, out, os.getpid()))
        for _ in range(jobs)
    ]
    for worker in workers:
        worker.start()
    finished = 0
    try:
        while finished < jobs:
            try:
                kind, payload = out.get(timeout=_POLL_S)
            except queue.Empty:
                dead = [w for w in workers if not w.is_alive() and w.exitcode not in (0, None)]
                if dead:
                    raise RuntimeError(f"eval worker {dead[0].pid} died (exit code {dead[0].exitcode})") from None
                continue
            if kind == _ROW:
                sweep.store.append(payload)
                summary.computed += 1
                bar.set_postfix_str(f"{payload['image'][:24]} {payload['cell']}", refresh=False)
                bar.update(1)
            elif kind == _DONE:
                finished += 1
            else:
                raise RuntimeError(f"eval worker failed:\n{payload}")
    finally:
        for worker in workers:
            if worker.is_alive() and finished < jobs:
                worker.terminate()
            worker.join(timeout=30)
