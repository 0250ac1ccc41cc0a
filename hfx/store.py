"""The chunk store of an output folder: every finished chunk on disk at once, so that `--resume` loses nothing.

``DIR/chunks/store.json`` names what the store holds: the experiment, the hash of its configuration (the
`config_hash` that the manifest records), the device, and the number of chunks.  ``DIR/chunks/<index>.json``
holds one finished chunk (`hfx.chunkcodec`: its records exactly, with the config hash and its index), written
atomically (a temporary file, fsync, rename: `hfx.output.write_bytes_atomic`) as soon as the chunk completes —
a SIGKILL, a power cut or a lost worker leaves whole chunk files or none.

``hfx run … --resume`` loads the chunks that are there (a file that cannot be read back, or that belongs to
another configuration, is recomputed), runs only the missing ones and merges all of them in chunk order: each
chunk exactly once, so no record is lost or doubled, and the outputs are those of an uninterrupted run.  A
resume whose experiment, configuration or device differs from the store's is refused before anything is
written (`UsageError`), as is a store of another layout (`FORMAT`: written by another hfx version, or edited).
A run without ``--resume`` starts afresh: it empties the store first.  The final
manifest lists the store's files (with their sha256), so a complete folder resumes to the same outputs
without computing anything.  The degradation study, whose rounds are not known up front, keeps one file per
finished job in the same folder, under the same header (`hfx.degradation_jobs.JobStore`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hfx.encoding import parse_json
from hfx.errors import UsageError
from hfx.readfile import read_small_text

if TYPE_CHECKING:
    from hfx.output import OutputFolder
    from numerics.experiments import AnyChunkResult, Chunk

STORE = "chunks"  # the store's folder inside the output folder
HEADER = "store.json"
FORMAT = 1  # version of the store's layout
CHUNK_MAX_BYTES = 1 << 30  # a chunk holds the records of at most 100,000 seeds: far below this


@dataclass(frozen=True)
class StoreKey:
    """What a store's chunks belong to: resuming requires the same."""

    experiment: str
    config_hash: str  # hfx.provenance.config_hash of the run's configuration (as in its manifest)
    device: str  # the resolved device (cpu or cuda): another device computes other float rounding
    chunks: int  # how many chunks the configuration makes

    def header(self) -> dict[str, object]:
        return {"format": FORMAT, "experiment": self.experiment, "config_hash": self.config_hash,
                "device": self.device, "chunks": self.chunks}


def _chunk_name(index: int) -> str:
    return f"{index:06d}.json"


def _read_json(path: Path) -> object:
    with contextlib.suppress(OSError, ValueError):
        return parse_json(read_small_text(path, CHUNK_MAX_BYTES))
    return None


def check_store_path(out: Path) -> None:
    """UsageError if `out`'s store could not be written: ``chunks`` there that is not a folder of its own (a file,
    a symbolic link), or a chunk's name taken by something that is not a file.  Read-only."""
    store = out / STORE
    if not os.path.lexists(store):
        return
    if store.is_symlink() or not store.is_dir():
        raise UsageError(f"{store} is not a folder (hfx keeps its chunk store there): move it away or choose another "
                         "--out")
    try:
        odd = [p for p in store.glob("[0-9]*.json") if p.is_symlink() or not p.is_file()]
    except OSError as exc:
        raise UsageError(f"{store}: {exc.strerror or exc}") from None
    if odd or (os.path.lexists(store / HEADER) and not (store / HEADER).is_file()):
        name = odd[0] if odd else store / HEADER
        raise UsageError(f"{name} is not a plain file (hfx writes its chunks there): move it away or choose "
                         "another --out")


def check_folder(out: Path, experiment: str) -> dict[str, object] | None:
    """UsageError if the manifest in `out` is that of another command or another experiment (`hfx.owner`: the
    final manifest's `config`, an interrupted command's `owner` or command line); the manifest."""
    from hfx.owner import owner_of

    manifest = _read_json(out / "manifest.json")
    if not isinstance(manifest, dict):
        return None
    command, found = owner_of(manifest) or (None, None)
    if command not in (None, "run"):
        raise UsageError(f"--resume: {out} holds the output of 'hfx {command}', not of hfx run {experiment}")
    if found not in (None, experiment):
        raise UsageError(f"--resume: {out} holds a run of {found!r}, not {experiment!r}")
    return manifest


def check_resume(out: Path, key: StoreKey) -> int:
    """Before anything is written: UsageError if `out` holds a run that `key` cannot resume; the number of
    chunk files found (0: nothing to resume, every chunk will run)."""
    manifest = check_folder(out, key.experiment)
    header = _read_json(out / STORE / HEADER)
    found = header if isinstance(header, dict) else None
    if found is None:  # no store: a finished folder of another configuration is still refused
        if manifest is not None and manifest.get("complete") and manifest.get("config_hash") not in (
                None, key.config_hash):
            raise UsageError(f"--resume: {out} was run with another configuration; rerun without --resume to "
                             "start afresh, or give the same --set and --seeds")
        return 0
    if found.get("format") != FORMAT or type(found.get("format")) is not int:  # (not 1.0, not true)
        raise UsageError(f"--resume: {out / STORE / HEADER} is of store format {found.get('format')!r}, this hfx "
                         f"{_version()} reads format {FORMAT} (another hfx version wrote it, or it was edited); "
                         "rerun without --resume to start afresh")
    if found.get("experiment") != key.experiment:
        raise UsageError(f"--resume: {out} holds a run of {found.get('experiment')!r}, not {key.experiment!r}")
    if found.get("config_hash") != key.config_hash or found.get("chunks") != key.chunks:
        raise UsageError(f"--resume: {out} was run with another configuration (config_hash "
                         f"{str(found.get('config_hash'))[:12]}…, this one {key.config_hash[:12]}…); rerun without "
                         "--resume to start afresh, or give the same --set and --seeds")
    if found.get("device") != key.device:
        raise UsageError(f"--resume: {out} was run on --device {found.get('device')}, this run is on {key.device}; "
                         "resume on the same device")
    return sum(1 for p in (out / STORE).glob("[0-9]*.json"))


def _version() -> str:
    from hfx import __version__

    return __version__


class ChunkStore:
    """The store of one output folder, opened by a run (module docstring)."""

    def __init__(self, folder: OutputFolder, key: StoreKey, resume: bool) -> None:
        self.root = folder.root / STORE
        self.key = key
        self._folder = folder
        self._files: list[Path] = []
        self.resumed = 0  # chunks taken from the store (not computed again)
        if not resume:
            self._clear()
        from hfx.output import write_json_atomic

        write_json_atomic(self.root / HEADER, key.header())
        self._files.append(self.root / HEADER)

    def _clear(self) -> None:
        """Remove the chunk files of a previous run (a fresh start must not merge them)."""
        if not self.root.is_dir():
            return
        stale = sorted(self.root.glob("[0-9]*.json"))
        if stale:
            print(f"hfx: starting afresh in {self._folder.root}: {len(stale)} finished chunks of the previous run "
                  "discarded (--resume keeps them)", file=sys.stderr)
        for path in [*stale, self.root / HEADER]:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def load(self, planned: tuple[Chunk, ...]) -> dict[int, AnyChunkResult]:
        """The finished chunks of `planned` found in the store; unreadable or foreign files are recomputed."""
        from hfx.chunkcodec import decode
        from numerics.experiments import ChunkResult

        done: dict[int, AnyChunkResult] = {}
        for chunk in planned:
            path = self.root / _chunk_name(chunk.index)
            if not path.is_file():
                continue
            document = _read_json(path)
            try:
                if not isinstance(document, dict) or document.get("config_hash") != self.key.config_hash:
                    raise ValueError("of another configuration")
                part = decode(document.get("result"))
                # (at least the planned runs: a learning-rate search may add runs to a chunk)
                if not isinstance(part, ChunkResult) or part.chunk != chunk or len(part.records) < chunk.runs:
                    raise ValueError("not the planned chunk")
            except ValueError as exc:
                print(f"hfx: {path} cannot be used ({exc}): computing that chunk again", file=sys.stderr)
                continue
            done[chunk.index] = part
            self._files.append(path)
        self.resumed = len(done)
        return done

    def save(self, part: AnyChunkResult) -> None:
        """Persist a finished chunk now, atomically."""
        from hfx.chunkcodec import encode
        from hfx.output import write_bytes_atomic

        document = {"config_hash": self.key.config_hash, "index": part.chunk.index, "result": encode(part)}
        path = self.root / _chunk_name(part.chunk.index)
        write_bytes_atomic(path, json.dumps(document, separators=(",", ":")).encode("utf-8"))
        _sync_folder(self.root)
        self._files.append(path)

    def files(self) -> list[Path]:
        """Every file of the store this run used (for the manifest)."""
        return list(dict.fromkeys(self._files))


def _sync_folder(folder: Path) -> None:
    """fsync a folder, so that a rename in it survives a power cut (POSIX; best effort elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
