"""Where weights come from: a hub id or a local directory, loaded in ONE guarded place.

Every component (captioner, codecs, UNet, text encoder, tokenizer, scheduler) is loaded through
`load_pretrained`, which calls the library's own `from_pretrained` (so HF_HOME and HF_HUB_OFFLINE
are honoured by huggingface_hub itself) and turns any loading failure into a short
`ModelNotAvailableError` saying what to download or which variable to set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

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
    what: str, source: Source, reason: str, profile: str | None = None, downloading: bool = False
) -> ModelNotAvailableError:
    """The one message format for a missing model: what, where from, why, and how to fix it."""
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
        if offline:
            lines.append("HF_HUB_OFFLINE=1 is set, so only the local cache was searched.")
        elif not downloading:
            lines.append("Set HF_HUB_OFFLINE=1 to fail fast without network access.")
    return ModelNotAvailableError("\n".join(lines))


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
    try:
        return loader(ref, **call_kwargs)
    except _load_errors() as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if len(reason) > 300:
            reason = reason[:297] + "..."
        raise not_available(what, source, f"{type(exc).__name__}: {reason}", profile) from None


def quiet_libraries() -> None:
    """Silence the libraries' progress bars and load-time chatter (for CLI output; logging stays on)."""
    import warnings

    import diffusers
    import transformers

    # diffusers still passes arguments huggingface_hub has deprecated; not the user's concern
    warnings.filterwarnings("ignore", category=UserWarning, module=r"huggingface_hub\.")
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
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
