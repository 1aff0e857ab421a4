"""Atomic file replacement: a reader sees the old complete file or the new complete file, never a mix.

Every file tripletws writes (model files, predictions, CLI outputs) goes through
:func:`atomic_write`: the content is written to a temporary file in the target's
folder, flushed and ``fsync``-ed, then moved over the target with ``os.replace``
(atomic on POSIX and Windows when both names are on one file system), and the
folder is ``fsync``-ed where the platform allows it so that the rename itself
survives a power cut.  If writing fails (disk full, file-size limit, an
exception in the caller) the temporary file is removed and the target is left
as it was.  A process killed outright (``SIGKILL``) can leave its temporary file
behind (a hidden ``.NAME.*.tmp`` beside the target); the target itself is
always either the old or the new complete file.  A replaced file keeps its permission
bits; a new one gets those the umask gives, as with ``open(path, "w")``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

#: Suffix of the temporary files (``.<target name>.<pid>.<random>.tmp`` in the target's folder).
TEMP_SUFFIX = ".tmp"


def _open_temp(folder: Path, name: str) -> tuple[int, Path]:
    """Create a new, exclusive temporary file in ``folder``; permissions follow the umask."""
    for _ in range(100):
        tmp = folder / f".{name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
        try:
            # 0o666 & ~umask, like open(path, "w"): the kernel applies the umask.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        return fd, tmp
    raise FileExistsError(17, "could not create a unique temporary file", str(folder))


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _keep_permissions(fd: int, target: Path) -> None:
    """Give the new file the permission bits of the file it replaces (a private 0600 model stays so)."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return  # a new file: the umask decides, as for open(path, "w")
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)


def target_path(path: str | Path) -> Path:
    """The file that a write to ``path`` replaces: symbolic links are followed, so they are kept."""
    return Path(os.path.realpath(path))


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` when the ``with`` block ends without an error.

    Parameters
    ----------
    path : str or Path
        The file to create or replace.  Its folder must exist.
    mode : {"wb", "w"}
        Binary or text.
    encoding : str, optional
        Text encoding for ``mode="w"`` (default UTF-8).  Text is written with ``"\\n"`` line ends.

    Yields
    ------
    file object
        Write the complete content to it; do not close it.

    Examples
    --------
    >>> with atomic_write("model.json", "w") as fh:  # doctest: +SKIP
    ...     fh.write(text)
    """
    with atomic_write_all([(path, mode)], encoding=encoding) as (fh,):
        yield fh


def _stage(path: str | Path, mode: str, encoding: str | None) -> tuple[IO[Any], Path, Path]:
    """The open temporary file that will replace ``path``, its own path, and the target."""
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write mode must be 'wb' or 'w', got {mode!r}")
    target = target_path(path)
    if not target.parent.is_dir():
        raise FileNotFoundError(2, "no such folder", str(target.parent))
    if target.is_dir():
        raise IsADirectoryError(21, "is a directory, not a file", str(target))
    try:
        fd, tmp = _open_temp(target.parent, target.name)
    except OSError as exc:  # name the file the caller asked for, not the temporary one
        raise type(exc)(exc.errno, exc.strerror, str(target)) from exc
    try:
        _keep_permissions(fd, target)
        if mode == "w":
            fh: IO[Any] = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline="\n")
        else:
            fh = os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    return fh, tmp, target


@contextlib.contextmanager
def atomic_write_all(
    files: list[tuple[str | Path, str]], encoding: str | None = None
) -> Iterator[list[IO[Any]]]:
    """Several files replaced together, all or none: :func:`atomic_write` for a group of outputs.

    Each file is written to its own temporary file beside its target; only when the ``with`` block
    ends without an error and every temporary file is flushed and ``fsync``-ed are they moved over
    their targets (one ``os.replace`` each, in the order given).  An error before that (a failed
    write, a name too long, a full disk, an exception in the caller) removes every temporary file
    and leaves every target as it was.  (Only a failure of the renames themselves, rare once the
    temporary files were created in the same folders, can leave the targets renamed before it
    replaced.)

    Parameters
    ----------
    files : list of (path, mode)
        Each target and its mode, ``"w"`` (text, ``"\\n"`` line ends) or ``"wb"``.
    encoding : str, optional
        Text encoding of the ``"w"`` files (default UTF-8).

    Yields
    ------
    list of file objects
        One per target, in the order given; write each one's complete content, do not close them.
    """
    staged: list[tuple[IO[Any], Path, Path]] = []
    try:
        for path, mode in files:
            staged.append(_stage(path, mode, encoding))
        yield [fh for fh, _, _ in staged]
        for fh, _, _ in staged:
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
        for _, tmp, target in staged:
            os.replace(tmp, target)
    except BaseException:
        for fh, tmp, _ in staged:
            with contextlib.suppress(OSError):
                fh.close()
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
        raise
    for folder in {target.parent for _, _, target in staged}:
        _fsync_folder(folder)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, "wb") as fh:
        fh.write(data)


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """Replace ``path`` with ``text`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, "w", encoding=encoding) as fh:
        fh.write(text)
