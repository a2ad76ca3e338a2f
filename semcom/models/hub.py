"""Where weights come from: a hub id or a local directory, loaded in ONE guarded place.

Every component (captioner, codecs, UNet, text encoder, tokenizer, scheduler) is loaded through
`load_pretrained`, which calls the library's own `from_pretrained` (so HF_HOME and HF_HUB_OFFLINE
are honoured by huggingface_hub itself) and turns any loading failure into a short
`ModelNotAvailableError` saying what to download or which variable to set.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from semcom import config
from semcom.models.errors import ModelNotAvailableError


@dataclass(frozen=True)
class Source:
    """A component's location: `ref` is a hub id ("owner/name") or an absolute local directory."""

    ref: str
    subfolder: str | None = None
    revision: str | None = None

    @property
    def is_local(self) -> bool:
        return is_local_ref(self.ref)

    @property
    def path(self) -> Path:
        """Local directory of this component (only meaningful when `is_local`)."""
        base = Path(self.ref)
        return base / self.subfolder if self.subfolder else base

    def describe(self) -> str:
        where = f"{self.ref}/{self.subfolder}" if self.subfolder else self.ref
        return f"{where}@{self.revision}" if self.revision else where


def is_local_ref(ref: str) -> bool:
    """A reference is local when it looks like a path (absolute, ./, ~) or names an existing directory."""
    return ref.startswith(("/", "./", "../", "~")) or Path(ref).expanduser().is_dir()


def _hub_state() -> tuple[str, bool]:
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE), bool(constants.is_offline_mode())


_probe_lock = threading.Lock()
_probe_results: dict[tuple[str, int], str | None] = {}


def _probe_target() -> tuple[str, int, str]:
    """(host, port, what) a connection to the hub goes to first: the HTTPS proxy when one applies."""
    from huggingface_hub import constants

    url = urllib.parse.urlsplit(constants.ENDPOINT)
    host, port = url.hostname or "huggingface.co", url.port or (443 if url.scheme == "https" else 80)
    proxy = urllib.request.getproxies().get(url.scheme or "https")
    if proxy and not urllib.request.proxy_bypass(host):
        purl = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if purl.hostname:
            return purl.hostname, purl.port or 80, f"proxy {purl.hostname}:{purl.port or 80} for {constants.ENDPOINT}"
    return host, port, constants.ENDPOINT


def hub_unreachable(timeout_s: float | None = None) -> str | None:
    """Why the Hugging Face hub cannot be reached, or None when it can (or need not be probed).

    A TCP connection to the hub endpoint (HF_ENDPOINT; through HTTPS_PROXY when set), name lookup
    included, bounded by `timeout_s` (default SEMCOM_HUB_PROBE_TIMEOUT_S; 0 = never probe). Not
    probed with HF_HUB_OFFLINE=1 (huggingface_hub then never asks the network). Remembered per
    process and endpoint, so a profile's many components cost one probe.
    """
    _, offline = _hub_state()
    if timeout_s is None:
        timeout_s = float(config.get("SEMCOM_HUB_PROBE_TIMEOUT_S"))
    if offline or timeout_s <= 0:
        return None
    host, port, what = _probe_target()
    with _probe_lock:
        if (host, port) in _probe_results:
            return _probe_results[(host, port)]
        outcome: list[str | None] = []

        def connect() -> None:
            try:
                socket.create_connection((host, port), timeout=timeout_s).close()
                outcome.append(None)
            except OSError as exc:  # gaierror, timeout, refused, unreachable
                outcome.append(f"{type(exc).__name__}: {exc}".rstrip(": "))

        start = time.monotonic()
        worker = threading.Thread(target=connect, name="semcom-hub-probe", daemon=True)
        worker.start()
        worker.join(timeout_s)  # name lookup is not bounded by the socket timeout: the join is
        reason = outcome[0] if outcome else f"no answer within {timeout_s:g} s"
        if reason is not None:
            reason = f"{what} is unreachable ({reason}, after {time.monotonic() - start:.1f} s)"
        _probe_results[(host, port)] = reason
        return reason


def _load_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "these weights are not here", from every library that loads them."""
    from huggingface_hub import errors as hub_errors

    kinds: list[type[BaseException]] = [
        OSError,  # EnvironmentError, FileNotFoundError, HfHubHTTPError, LocalEntryNotFoundError
        ConnectionError,
        TimeoutError,
        hub_errors.HFValidationError,  # a malformed hub id
        hub_errors.EntryNotFoundError,
        hub_errors.RevisionResolutionError,
    ]
    try:  # huggingface_hub >= 1.0 talks HTTP through httpx
        import httpx

        kinds.append(httpx.HTTPError)
    except ImportError:  # pragma: no cover - older hub uses requests (its errors are OSErrors)
        pass
    return tuple(kinds)


def not_available(
    what: str,
    source: Source,
    reason: str,
    profile: str | None = None,
    downloading: bool = False,
    unreachable: str | None = None,
) -> ModelNotAvailableError:
    """The one message format for a missing model: what, where from, why, and how to fix it.
    `unreachable`: why the hub could not be reached (then only the local cache was searched)."""
    cache, offline = _hub_state()
    lines = [f"{what} is not available from {source.describe()}: {reason}"]
    if what == source.ref:
        lines[0] = f"{source.describe()} is not available: {reason}"
    if source.is_local:
        lines.append(
            "The local directory is missing or incomplete. For the tiny profile run "
            "`semcom models build-tiny`; for your own profile fix the path in its YAML/JSON."
        )
    elif downloading:
        lines.append(
            f"Check the network connection and the repository id (cache: {cache}; HF_HOME chooses another; "
            "HF_TOKEN for gated repositories)."
        )
    else:
        name = profile or "<profile>"
        lines.append(
            f"Download it on a machine with network access: `semcom models download --profile {name}` "
            f"(writes to the Hugging Face cache {cache}; set HF_HOME to choose another), then copy that "
            "cache here and point HF_HOME at it."
        )
    if not source.is_local:
        if unreachable:
            lines.append(
                "Without network only the local cache is searched (no retries); "
                "HF_HUB_OFFLINE=1 skips the network check as well."
            )
        elif offline:
            lines.append("HF_HUB_OFFLINE=1 is set, so only the local cache was searched.")
        elif not downloading:
            lines.append("Set HF_HUB_OFFLINE=1 to fail fast without network access.")
    return ModelNotAvailableError("\n".join(lines))


def check_hub_sources(sources: Sequence[tuple[str, Source]], profile: str | None = None) -> None:
    """Up front, before any model library loads: when the hub is unreachable (`hub_unreachable`),
    every hub component must already be in the local cache, else ModelNotAvailableError at once
    naming the first missing one and the network as the reason."""
    hub = [(what, src) for what, src in sources if not src.is_local]
    if not hub:
        return
    unreachable = hub_unreachable()
    if not unreachable:
        return
    from huggingface_hub import try_to_load_from_cache

    for what, src in hub:
        name = {"scheduler": "scheduler_config.json", "tokenizer": "tokenizer_config.json"}.get(what, "config.json")
        filename = f"{src.subfolder}/{name}" if src.subfolder else name
        try:
            cached = try_to_load_from_cache(src.ref, filename, revision=src.revision)
        except _load_errors():  # e.g. a malformed hub id: the loader reports it (clean error)
            continue
        if not isinstance(cached, str):
            raise not_available(
                what, src, f"not in the local cache, and {unreachable}", profile, unreachable=unreachable
            )


def load_pretrained(
    loader: Callable[..., Any], source: Source, what: str, profile: str | None = None, **kwargs: Any
) -> Any:
    """`loader(ref, subfolder=..., revision=..., **kwargs)` with every load failure made readable.

    `loader` is a `from_pretrained` bound method (diffusers or transformers) or any callable with
    the same signature. A local source whose directory is absent fails before any library call.
    """
    if source.is_local and not source.path.expanduser().is_dir():
        raise not_available(what, source, f"no directory {source.path}", profile)
    call_kwargs = dict(kwargs)
    if source.subfolder:
        call_kwargs["subfolder"] = source.subfolder
    if source.revision:
        call_kwargs["revision"] = source.revision
    ref = str(Path(source.ref).expanduser()) if source.is_local else source.ref
    unreachable = None if source.is_local else hub_unreachable()
    if unreachable:  # no network: the cache alone, at once, instead of retrying every file
        call_kwargs["local_files_only"] = True
    try:
        return loader(ref, **call_kwargs)
    except _load_errors() as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if len(reason) > 300:
            reason = reason[:297] + "..."
        if unreachable:  # the library's own message would blame a missing file, not the network
            reason, kind = f"not in the local cache, and {unreachable}", ""
        else:
            kind = f"{type(exc).__name__}: "
        raise not_available(what, source, f"{kind}{reason}", profile, unreachable=unreachable) from None


def quiet_libraries() -> None:
    """Silence the libraries' progress bars and load-time chatter (for CLI output; logging stays on).

    Libraries not imported yet are not imported here (diffusers alone takes seconds): their own
    environment switches are set instead (TRANSFORMERS_VERBOSITY, DIFFUSERS_VERBOSITY,
    HF_HUB_DISABLE_PROGRESS_BARS; values already set are kept), so a command that fails before
    loading any model, e.g. without network, fails fast.
    """
    # diffusers still passes arguments huggingface_hub has deprecated; not the user's concern
    warnings.filterwarnings("ignore", category=UserWarning, module=r"huggingface_hub\.")
    for variable, value in (
        ("TRANSFORMERS_VERBOSITY", "error"),
        ("DIFFUSERS_VERBOSITY", "error"),
        ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
    ):
        os.environ.setdefault(variable, value)
    if "transformers" in sys.modules:
        import transformers

        transformers.utils.logging.disable_progress_bar()
        transformers.utils.logging.set_verbosity_error()
    if "diffusers" in sys.modules:
        import diffusers

        diffusers.utils.logging.disable_progress_bar()
        diffusers.utils.logging.set_verbosity_error()


def diffusers_kwargs(dtype: Any) -> dict[str, Any]:
    """from_pretrained kwargs for diffusers models: load in `dtype` (keeping the modules a model
    marks as float32), and use low-memory loading only where accelerate is installed (diffusers
    otherwise warns on every load)."""
    from diffusers.utils import is_accelerate_available

    return {"torch_dtype": dtype, "low_cpu_mem_usage": is_accelerate_available()}


def download(
    repo_id: str,
    allow_patterns: Sequence[str] | None = None,
    ignore_patterns: Sequence[str] | None = None,
    revision: str | None = None,
    what: str = "model",
) -> Path:
    """Fetch a hub repository (or part of it) into the Hugging Face cache; returns its snapshot dir."""
    from huggingface_hub import snapshot_download

    source = Source(repo_id, revision=revision)
    unreachable = hub_unreachable()
    if unreachable:
        raise not_available(what, source, unreachable, downloading=True)
    try:
        path = snapshot_download(
            repo_id,
            revision=revision,
            allow_patterns=list(allow_patterns) if allow_patterns else None,
            ignore_patterns=list(ignore_patterns) if ignore_patterns else None,
        )
    except _load_errors() as exc:
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise not_available(what, source, f"{type(exc).__name__}: {reason}", downloading=True) from None
    return Path(path)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, hex (a downloaded weight against the hub's LFS pointer; the packaged
    TAEF2 weights against their CHECKSUMS)."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _git_blob_sha1(path: Path) -> str:
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def verify_snapshot(
    path: Path,
    repo_id: str,
    allow_patterns: Sequence[str] | None = None,
    ignore_patterns: Sequence[str] | None = None,
    revision: str | None = None,
    api: Any = None,
) -> dict[str, int]:
    """Check a downloaded snapshot against the hub's file list: every selected file present, of
    the published size, LFS files by their SHA-256 and small files by their git blob SHA-1.
    Returns counts; ModelNotAvailableError naming each bad file (delete it and download again)."""
    from huggingface_hub import HfApi
    from huggingface_hub.utils import filter_repo_objects

    api = api or HfApi()
    source = Source(repo_id, revision=revision)
    try:
        info = api.model_info(repo_id, revision=revision, files_metadata=True)
    except _load_errors() as exc:
        raise not_available(
            repo_id, source, f"cannot list its files to verify them: {type(exc).__name__}: {exc}", downloading=True
        ) from None
    siblings = list(
        filter_repo_objects(
            info.siblings or [],
            allow_patterns=list(allow_patterns) if allow_patterns is not None else None,
            ignore_patterns=list(ignore_patterns) if ignore_patterns is not None else None,
            key=lambda s: s.rfilename,
        )
    )
    problems: list[str] = []
    counts = {"files": 0, "bytes": 0, "sha256": 0, "sha1": 0}
    for sib in siblings:
        local = path / sib.rfilename
        if not local.is_file():
            problems.append(f"{sib.rfilename}: missing")
            continue
        size = local.stat().st_size
        if sib.size is not None and size != sib.size:
            problems.append(f"{sib.rfilename}: {size} bytes, published {sib.size}")
            continue
        if sib.lfs is not None:
            if file_sha256(local) != sib.lfs.sha256:
                problems.append(f"{sib.rfilename}: SHA-256 differs from the published {sib.lfs.sha256}")
                continue
            counts["sha256"] += 1
        elif sib.blob_id:
            if _git_blob_sha1(local) != sib.blob_id:
                problems.append(f"{sib.rfilename}: git blob SHA-1 differs from the published {sib.blob_id}")
                continue
            counts["sha1"] += 1
        counts["files"] += 1
        counts["bytes"] += size
    if problems:
        raise not_available(
            repo_id,
            source,
            "verification failed: "
            + "; ".join(problems)
            + f". Delete these files under {path} and run the download again",
            downloading=True,
        )
    return counts
