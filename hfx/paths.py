"""Validation of output folders, before any work and before anything is written.

`output_dir(value)` accepts a folder that exists, or can be created, and can be written; it refuses with
one line (`UsageError`, exit 2) whatever else a user can type: an empty name, a NUL character, a name or a
path too long for the file system, a path through a file, a dangling symbolic link, a loop of symbolic
links, a folder that cannot be reached or written (permissions, a read-only file system), or that holds
a folder that cannot be (its chunks/, figures/, …: the run writes there), a folder that another hfx run
is writing into (its lock is held; `hfx.lock`) or a folder inside one, and a folder whose `manifest.json`
hfx did not write (it would be replaced).  Also refused: `-` (hfx writes a folder, never to stdout: `./-`
names a folder `-`), the root of the file system, and hfx's own source (its packages, its repository's root
and `.git`), which a run would litter or overwrite; and a folder holding, where hfx writes a file, a folder
(`runs.csv/`) or, where it writes a folder, something else (a file or a dangling link named `figures`): the
write would fail after the work.  The write probe leaves nothing behind.
Cheap: the standard library only, so that bad input is refused before the heavy imports.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from hfx.errors import UsageError
from hfx.lock import check_ancestors_unlocked, check_unlocked

NAME_MAX = 255  # bytes in one file name, where the file system does not say
PATH_MAX = 4096  # bytes in a path (Linux)
MANIFEST_MAX_BYTES = 64 << 20  # an hfx manifest lists files: far below this
PROBE_MAX = 10_000  # folders probed under an existing --out
RESERVED = 255  # room left in PATH_MAX for the names hfx writes under the folder (derivations/<id>.fragment.tex)
# what hfx writes in an output folder: files with these suffixes, and these folders (a sweep's points aside)
FILE_SUFFIXES = (".json", ".csv", ".md", ".html", ".pdf", ".png", ".tex", ".typ", ".bib")
FOLDERS = ("chunks", "figures", "tables", "experiments", "derivations")

_MESSAGES = {
    errno.ELOOP: "a loop of symbolic links",
    errno.ENAMETOOLONG: "name too long for the file system",
    errno.ENOTDIR: "a part of it is a file, not a folder",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
}


def path_problem(value: str, exc: OSError) -> str:
    """One line saying why the output folder `value` cannot be used."""
    reason = _MESSAGES.get(exc.errno or 0) or exc.strerror or type(exc).__name__
    return f"--out {value!r}: {reason}"


def _is_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def _check_lengths(value: str) -> None:
    try:
        raw = os.fsencode(os.path.abspath(value))
    except UnicodeError:
        raise UsageError(f"--out {value!r}: not a name this file system's encoding can hold") from None
    longest = max((len(part) for part in raw.split(b"/")), default=0)
    existing = next((p for p in [Path(value), *Path(value).parents] if _is_dir(p)), Path("."))
    try:
        name_max = os.pathconf(existing, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = NAME_MAX
    if longest > name_max:
        raise UsageError(f"--out {value[:40]!r}…: a name of {longest} bytes; the file system allows {name_max}")
    if len(raw) + RESERVED > PATH_MAX:
        raise UsageError(f"--out {value[:40]!r}…: a path of {len(raw)} bytes is too long (at most "
                         f"{PATH_MAX - RESERVED}, to leave room for the files written under it)")


def _nearest_existing(value: str, path: Path) -> Path:
    """The nearest folder above a missing `path`; UsageError for a dangling symbolic link on the way."""
    for candidate in [path, *path.parents]:
        try:
            info = os.lstat(candidate)
        except (FileNotFoundError, NotADirectoryError):  # missing, or below a file: look further up
            continue
        except OSError as exc:
            raise UsageError(path_problem(value, exc)) from None
        if stat.S_ISLNK(info.st_mode):
            raise UsageError(f"--out {value!r}: {str(candidate)!r} is a symbolic link to a missing "
                             f"{os.readlink(candidate)!r}")
        if not stat.S_ISDIR(info.st_mode):
            raise UsageError(f"--out {value!r}: {str(candidate)!r} is not a folder")
        return candidate
    return Path(".")


def _probe(value: str, folder: Path) -> None:
    """Create (and remove) a folder in `folder`: permission bits say nothing for root or read-only mounts.
    The folder's times are put back: the probe leaves no trace, not even a new modification time."""
    try:
        before = os.stat(folder)
        os.rmdir(tempfile.mkdtemp(prefix=".hfx-probe-", dir=folder))
    except OSError as exc:
        reason = _MESSAGES.get(exc.errno or 0) or exc.strerror
        raise UsageError(f"--out {value!r}: cannot write in {str(folder)!r} ({reason})") from None
    with contextlib.suppress(OSError):
        os.utime(folder, ns=(before.st_atime_ns, before.st_mtime_ns))


def _probe_tree(value: str, folder: Path) -> None:
    """`_probe` the folder and every folder below it (not through symbolic links): a run writes into its existing
    sub-folders (chunks/, figures/, derivations/, a sweep's points), and one that cannot be written must be refused
    now, not after the work; so is a folder named as a file hfx writes (`runs.csv/`, `figures/x.pdf/`), and, at
    the top, anything but a folder named as a folder hfx writes (`figures`).  At most `PROBE_MAX` folders (a
    folder hfx writes holds a few)."""
    _check_folders(value, folder)
    seen = 0
    for root, dirs, _ in os.walk(folder, onerror=lambda exc: _raise_walk(value, exc)):
        _probe(value, Path(root))
        taken = next((d for d in dirs if d.lower().endswith(FILE_SUFFIXES) and "=" not in d), None)  # (a=b: a sweep's)
        if taken is not None:
            raise UsageError(f"--out {value!r}: {Path(root) / taken} is not a plain file (a folder, where hfx "
                             "writes a file): move it away or choose another --out")
        seen += 1
        if seen >= PROBE_MAX:
            dirs.clear()
            break


def _check_folders(value: str, folder: Path) -> None:
    """UsageError if `folder` holds, under a name of `FOLDERS`, something that is not a folder (followed)."""
    for name in FOLDERS:
        path = folder / name
        if os.path.lexists(path) and not _is_dir(path):
            kind = "a dangling symbolic link" if os.path.islink(path) else "not a folder"
            raise UsageError(f"--out {value!r}: {str(path)!r} is {kind}, where hfx writes a folder; move it or "
                             "choose another --out")


def _own_source() -> tuple[list[Path], list[Path]]:
    """(folders refused with everything below them, folders refused themselves): hfx's packages (hfx, theory,
    numerics) and, in a source checkout, its repository's `.git`; the repository's root and the file system's."""
    import importlib.util

    below: list[Path] = []
    for name in ("hfx", "theory", "numerics"):
        with contextlib.suppress(ImportError, ValueError, AttributeError):
            spec = importlib.util.find_spec(name)
            below += [Path(p).resolve() for p in (spec.submodule_search_locations or [])] if spec else []
    exact = [Path("/").resolve()]
    package = Path(__file__).resolve().parent
    if (package.parent / "pyproject.toml").is_file():  # a source checkout (an editable install)
        exact.append(package.parent)
        below.append(package.parent / ".git")
    return below, exact


def _check_not_own(value: str, path: Path) -> None:
    """UsageError for `-`, the root of the file system and hfx's own source (module docstring)."""
    if value.strip() == "-":
        raise UsageError("--out '-': hfx writes a folder, not to standard output (for a folder named '-', "
                         "write ./-)")
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        return  # a loop of links: said by the checks that follow
    below, exact = _own_source()
    if resolved in exact or any(resolved == b or b in resolved.parents for b in below):
        where = "the root of the file system" if resolved == Path("/").resolve() else "hfx's own source"
        raise UsageError(f"--out {value!r} is {where} ({str(resolved)!r}), not an output folder; choose another "
                         "--out")


def _raise_walk(value: str, exc: OSError) -> None:
    reason = _MESSAGES.get(exc.errno or 0) or exc.strerror
    raise UsageError(f"--out {value!r}: cannot read {str(exc.filename)!r} ({reason})") from None


def output_dir(value: str) -> Path:
    """An output folder that exists or can be created, and written; UsageError otherwise (module docstring)."""
    if not value.strip():
        raise UsageError("--out must not be empty")
    if "\0" in value:
        raise UsageError("--out must not contain a NUL character")
    if not os.path.isabs(value):
        try:
            os.getcwd()
        except OSError:  # the shell's folder was removed (or cannot be read) since it was entered
            raise UsageError(f"--out {value!r} is relative to the current folder, which no longer exists; give an "
                             "absolute path, or change to an existing folder") from None
    _check_lengths(value)
    path = Path(value)
    _check_not_own(value, path)
    try:
        info = os.stat(path)  # follows symbolic links
    except FileNotFoundError:
        _probe(value, _nearest_existing(value, path))
        check_ancestors_unlocked(value, path)
        return path
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            _nearest_existing(value, path)  # names the file on the way
        raise UsageError(path_problem(value, exc)) from None
    if not stat.S_ISDIR(info.st_mode):
        raise UsageError(f"--out {value!r} exists and is not a folder")
    _probe_tree(value, path)
    check_unlocked(value, path)
    check_ancestors_unlocked(value, path)
    _check_manifest(value, path)
    return path


def _check_manifest(value: str, path: Path) -> None:
    """UsageError if the folder holds a `manifest.json` that hfx did not write (hfx would replace it)."""
    from hfx.encoding import parse_json
    from hfx.readfile import read_small

    manifest = path / "manifest.json"
    try:
        document = parse_json(read_small(manifest, MANIFEST_MAX_BYTES))
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        document = None
    if not (isinstance(document, dict) and ("complete" in document or "config_hash" in document)):
        raise UsageError(f"--out {value!r} holds a manifest.json that hfx did not write; choose another --out")
