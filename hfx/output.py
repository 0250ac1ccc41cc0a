"""Everything hfx puts on disk goes through this module: atomic files and output folders.

Files.  A file is written to a temporary `.<name>.<random>.hfx-tmp` beside it, flushed to the disk (`fsync`),
then renamed over the target (`os.replace`): a reader, a crash or a power cut never sees half a file.  Files
are created with mode 0666 and folders with 0777, less the user's umask, as `open` and `mkdir` do (umask 022:
files 0644, folders 0755), so colleagues sharing a folder can read the report.  Text is UTF-8; JSON and CSV
have one encoding each (`hfx.encoding`: finite numbers only, non-finite → null).

Output folders.  A command that writes a folder opens it with `open_output(DIR)` and ends with `finish`:

1. a lock (`DIR/.hfx.lock`, `hfx.lock`) refuses a second run into the same folder (`UsageError`, exit 2), never
   interleaving; the kernel drops the lock when the process ends, however it ends;
2. `manifest.json` says `"complete": false` from the first moment, and lists every file as it is written
   (with the files the previous run listed), so an interrupted folder never looks complete and the next run
   still knows what is whose;
3. `finish(record)` removes the files that the previous manifest listed and this run did not write (a
   rerun with `--no-figures` leaves no figures of another run) — only if they still have the content that
   run wrote: a file someone changed since is kept, with a warning, and so is a file that the manifest of an
   enclosing output folder lists (`hfx derive`'s default folder is inside `hfx verify`'s); then it writes the
   final manifest, last: the provenance record, `"complete": true` and `files` (each path relative to DIR, its sha256).

A folder holding the output of another command (or of `hfx run` of another experiment) is refused on opening
(`owner`; `hfx.owner`, which the commands also check before any work): a rerun replaces only its own output.

`previous` holds the manifest found on opening (a resumable store can check its `config_hash`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath

from hfx.console import visible
from hfx.encoding import csv_text, json_text, jsonable, parse_json
from hfx.errors import UsageError
from hfx.lock import LOCK_NAME, acquire, release
from hfx.owner import Owner, owner_of, refusal, same
from hfx.paths import path_problem
from hfx.provenance import config_hash, git_state, manifest, package_versions, utc_now
from hfx.readfile import read_small_text

__all__ = [
    "MANIFEST", "OutputFolder", "config_hash", "csv_text", "git_state", "json_text", "jsonable", "manifest",
    "open_output", "package_versions", "sha256_file", "utc_now", "write_bytes_atomic", "write_csv_atomic",
    "write_json_atomic", "write_text_atomic",
]

MANIFEST = "manifest.json"  # the provenance record of an output folder
MANIFEST_MAX_BYTES = 64 << 20  # = hfx.paths.MANIFEST_MAX_BYTES
TMP_SUFFIX = ".hfx-tmp"  # temporary files of atomic writes; a killed run may leave one, the next run removes it


# ---- atomic files ---------------------------------------------------------------------------------------------


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (module docstring), creating its folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = path.parent / f".{path.name[:200]}.{os.getpid()}-{secrets.token_hex(4)}{TMP_SUFFIX}"
        try:
            fd = os.open(tmp, flags, 0o666)  # 0666 less the umask
            break
        except FileExistsError:  # pragma: no cover - one chance in 2^32
            continue
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """UTF-8; a lone surrogate (from an argument that was not valid UTF-8) is written as `\\udcxx`."""
    write_bytes_atomic(path, text.encode("utf-8", errors="backslashreplace"))


def write_json_atomic(path: Path, obj: object) -> None:
    write_text_atomic(path, json_text(obj))


def write_csv_atomic(path: Path, rows: Sequence[Mapping[str, object]]) -> None:
    write_text_atomic(path, csv_text(rows))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---- output folders -------------------------------------------------------------------------------------------


def _relative(name: str) -> str:
    """A file name relative to the folder, in POSIX form; ValueError for one that leaves it."""
    pure = PurePosixPath(str(name).replace(os.sep, "/"))
    if pure.is_absolute() or not pure.parts or any(p in ("", ".", "..") for p in pure.parts):
        raise ValueError(f"not a path inside the output folder: {name!r}")
    return pure.as_posix()


def _listed(record: object, key: str) -> dict[str, str]:
    """The {path: sha256} listing under `key` of a manifest, keeping only entries that are inside the folder."""
    files = record.get(key) if isinstance(record, dict) else None
    if not isinstance(files, dict):
        return {}
    out: dict[str, str] = {}
    for name, digest in files.items():
        with contextlib.suppress(ValueError):
            if isinstance(digest, str) and _relative(name) == name and name not in (MANIFEST, LOCK_NAME):
                out[name] = digest
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process
        return True
    return True


class OutputFolder:
    """One command's output folder, locked while open (module docstring); made by `open_output`."""

    def __init__(self, root: Path, owner: Owner | None = None) -> None:
        self.root = Path(root)
        self.owner = owner  # the command (and experiment) writing the folder: hfx.owner
        self.written: dict[str, str] = {}  # path relative to root → sha256, in the order written
        self.previous: dict[str, object] | None = None  # the manifest found on opening, if it was readable
        self._stale: dict[str, str] = {}  # what the previous runs listed: removed by finish() unless rewritten
        self._lock_fd: int | None = None
        self._started = utc_now()
        self.finished = False

    # -- life cycle --
    def _open(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._lock_fd = acquire(self.root)
        except UsageError:
            raise
        except OSError as exc:  # the folder changed since it was validated: still the user's path
            raise UsageError(path_problem(str(self.root), exc)) from None
        with contextlib.suppress(OSError, ValueError):
            found = parse_json(read_small_text(self.root / MANIFEST, MANIFEST_MAX_BYTES))
            self.previous = found if isinstance(found, dict) else None
        found_owner = owner_of(self.previous)
        if self.owner is not None and found_owner is not None and not same(found_owner, self.owner):
            raise refusal(str(self.root), found_owner, self.owner)
        self._stale = {**_listed(self.previous, "previous_files"), **_listed(self.previous, "files")}
        self._remove_temporaries()
        try:
            self._write_progress()
        except OSError as exc:  # the first file: a folder that cannot hold it is the user's input
            raise UsageError(f"{path_problem(str(self.root), exc)} (writing {MANIFEST})") from None

    def _close(self) -> None:
        if self._lock_fd is not None:
            release(self.root, self._lock_fd)
            self._lock_fd = None

    # -- writing --
    def path(self, name: str) -> Path:
        """The place of `name` (relative, inside the folder; not the manifest, which `finish` writes)."""
        if _relative(name) in (MANIFEST, LOCK_NAME):
            raise ValueError(f"{name} is the folder's own: written by finish() / the lock")
        return self.root / _relative(name)

    def write_bytes(self, name: str, data: bytes) -> Path:
        path = self.path(name)
        write_bytes_atomic(path, data)
        self.written[_relative(name)] = hashlib.sha256(data).hexdigest()
        self._write_progress()
        return path

    def write_text(self, name: str, text: str) -> Path:
        return self.write_bytes(name, text.encode("utf-8", errors="backslashreplace"))

    def write_json(self, name: str, obj: object) -> Path:
        return self.write_text(name, json_text(obj))

    def write_csv(self, name: str, rows: Iterable[Mapping[str, object]]) -> Path:
        return self.write_text(name, csv_text(rows))

    def record(self, paths: Iterable[Path]) -> None:
        """List files that another writer put in the folder (through `write_bytes_atomic`), with their hashes."""
        for path in paths:
            name = _relative(Path(path).resolve().relative_to(self.root.resolve()).as_posix())
            self.written[name] = sha256_file(self.root / name)
        self._write_progress()

    def finish(self, record: Mapping[str, object]) -> Path:
        """Write the final manifest: `record`, `complete: true` and every file; then remove stale files."""
        self._remove_stale()  # first: until the final manifest is written, the current one still lists them
        document = {**record, "complete": True, "files": dict(sorted(self.written.items()))}
        write_text_atomic(self.root / MANIFEST, json_text(document))
        self.finished = True
        return self.root / MANIFEST

    # -- bookkeeping --
    def _write_progress(self) -> None:
        pending = {k: v for k, v in self._stale.items() if k not in self.written}
        document = {"complete": False, "command": " ".join(["hfx", *sys.argv[1:]]), "started_utc": self._started,
                    "pid": os.getpid(), "files": self.written, "previous_files": pending}
        if self.owner is not None:
            document["owner"] = {"command": self.owner[0], "experiment": self.owner[1]}
        write_text_atomic(self.root / MANIFEST, json_text(document))

    def _remove_temporaries(self) -> None:
        """Temporary files left by killed writers here (their pid, in the name, is gone)."""
        for folder in {self.root, *(self.path(n).parent for n in self._stale)}:
            with contextlib.suppress(OSError):
                for entry in os.scandir(folder):
                    if entry.name.endswith(TMP_SUFFIX) and entry.is_file(follow_symlinks=False):
                        pid = entry.name[: -len(TMP_SUFFIX)].rpartition(".")[2].partition("-")[0]
                        if pid.isdigit() and not _alive(int(pid)):
                            os.unlink(entry.path)

    def _claimed_above(self) -> set[Path]:
        """The files that the manifests of enclosing output folders list (`hfx derive` writes its default folder
        inside that of `hfx verify`: a file both wrote is the enclosing command's too, and is never removed)."""
        claimed: set[Path] = set()
        with contextlib.suppress(OSError, RuntimeError):
            for above in self.root.resolve().parents:
                with contextlib.suppress(OSError, ValueError):
                    if (above / MANIFEST).is_file():
                        found = parse_json(read_small_text(above / MANIFEST, MANIFEST_MAX_BYTES))
                        for key in ("files", "previous_files"):
                            claimed.update(above / name for name in _listed(found, key))
        return claimed

    def _remove_stale(self) -> None:
        claimed = self._claimed_above() if any(n not in self.written for n in self._stale) else set()
        for name, digest in sorted(self._stale.items()):
            if name in self.written or name == MANIFEST:
                continue
            path = self.path(name)
            try:
                inside = self.root.resolve() in path.resolve().parents
                if not inside or not path.is_file() or path.is_symlink():
                    continue
                if path.resolve() in claimed:  # an enclosing folder's file too: not this run's alone to remove
                    continue
                if sha256_file(path) != digest:
                    print(f"hfx: kept {visible(path)}: changed since the run that wrote it", file=sys.stderr)
                    continue
                path.unlink()
            except OSError as exc:
                print(f"hfx: could not remove {visible(path)}: {exc.strerror}", file=sys.stderr)
                continue
            for parent in path.parents:  # folders that only held what was removed
                if parent == self.root or self.root not in parent.parents:
                    break
                try:
                    parent.rmdir()
                except OSError:
                    break


@contextlib.contextmanager
def open_output(root: Path, hint: str = "", owner: Owner | None = None) -> Iterator[OutputFolder]:
    """Take `root` for one command (module docstring); the caller ends with `folder.finish(record)`.

    If the block raises (Ctrl-C, an error), the folder keeps its `complete: false` manifest, and the exception
    gets a note saying so (with `hint`, e.g. how to resume).  `owner`: the command (and experiment) writing it;
    a folder that holds the output of another owner is refused (`UsageError`, `hfx.owner`), and the progress
    manifest names it.
    """
    folder = OutputFolder(root, owner)
    try:
        folder._open()
    except BaseException:
        folder._close()
        raise
    try:
        yield folder
        if not folder.finished:
            raise RuntimeError(f"output folder {root} was never finished")
    except BaseException as exc:
        exc.add_note(f"{root} is incomplete (its manifest.json says complete: false)" + (f"; {hint}" if hint else ""))
        raise
    finally:
        folder._close()
