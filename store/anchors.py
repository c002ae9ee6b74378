"""The audit checkpoints' files, outside the database: the Ed25519 signing key (made on first
use, mode 0600) and the append-only checkpoints file, one signed JSON line per checkpoint.

Blocking file calls: run them off the event loop (asyncio.to_thread).
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from bot.anchors import Checkpoint

log = logging.getLogger(__name__)


class AnchorError(Exception):
    """The key or the checkpoints file cannot be used; str() is one line naming the file."""


@dataclass(frozen=True)
class Read:
    """The checkpoints file as it reads: the checkpoints, and a line per line that does not."""

    checkpoints: list[Checkpoint]
    unreadable: list[str]


def load_key(path: Path) -> Ed25519PrivateKey | None:
    """The signing key at `path`; None when there is none yet."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AnchorError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise AnchorError(f"{path}: not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AnchorError(f"{path}: not an Ed25519 key")
    if path.stat().st_mode & 0o077:
        log.warning("%s: the audit signing key can be read by others than its owner "
                    "(chmod 600 it)", path)
    return key


def key_at(path: Path) -> Ed25519PrivateKey:
    """The signing key at `path`, made there first if there is none (mode 0600, in a folder
    of mode 0700). Replicas sharing the folder race safely: the key is written aside and
    linked into place, so the first one made is the one all use."""
    key = load_key(path)
    if key is not None:
        return key
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        made = Ed25519PrivateKey.generate()
        pem = made.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        handle, aside = tempfile.mkstemp(dir=path.parent, prefix=".key-")  # mode 0600
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(pem)
                out.flush()
                os.fsync(out.fileno())
            os.link(aside, path)
            log.info("audit: made the checkpoint signing key %s", path)
        except FileExistsError:
            pass  # another process made one first: use that
        finally:
            os.unlink(aside)
    except OSError as exc:
        raise AnchorError(f"{path}: cannot make the audit signing key here: "
                          f"{exc.strerror or exc}") from None
    found = load_key(path)
    assert found is not None  # linked above, by us or by the process that won
    return found


class CheckpointFile:
    """The append-only checkpoints file, held under an exclusive lock from `open()` to
    `close()` so processes sharing it (replicas on one volume) take turns: each reads the
    latest checkpoints before deciding whether to write one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None
        self._torn = False  # the file ends inside a line

    def open(self) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._file = self.path.open("a+b")
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX)
        except OSError as exc:
            self.close()
            raise AnchorError(f"{self.path}: cannot be opened: {exc.strerror or exc}") from None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()  # releases the lock
            self._file = None

    def read(self) -> Read:
        assert self._file is not None, "open() first"
        self._file.seek(0)
        data = self._file.read()
        self._torn = bool(data) and not data.endswith(b"\n")
        return parse(data, self.path)

    def append(self, checkpoint: Checkpoint) -> None:
        """Add one line and make it durable before returning. After a line a crash left
        unfinished, start a new one rather than run on from it."""
        assert self._file is not None, "open() first"
        line = ("\n" if self._torn else "") + checkpoint.to_line() + "\n"
        try:
            self._file.write(line.encode())  # O_APPEND: at the end
            self._torn = False
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            raise AnchorError(f"{self.path}: cannot be written: {exc.strerror or exc}") from None


def read_checkpoints(path: Path) -> Read:
    """The checkpoints file's contents, unlocked (it is only ever appended to); none when it
    does not exist."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Read([], [])
    except OSError as exc:
        raise AnchorError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    return parse(data, path)


def parse(data: bytes, path: Path) -> Read:
    checkpoints, unreadable = [], []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            checkpoints.append(Checkpoint.from_line(raw.decode("utf-8")))
        except ValueError as exc:  # UnicodeDecodeError too
            reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc)
            unreadable.append(f"{path}: line {number}: unreadable: {reason}")
    return Read(checkpoints, unreadable)
