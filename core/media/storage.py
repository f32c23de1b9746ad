"""Where media bytes live: a small interface, and the local-disk store used by default.

Objects are content-addressed: the key of some bytes is ``<sha256 hex><suffix>`` (for
example ``3a7b…9f.jpg``), so storing the same bytes twice stores them once, and a key never
names two contents. Object storage (S3 and the like) can implement the same interface later.

The methods block (file or network I/O): call them off the event loop.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

_KEY = re.compile(r"(?P<digest>[0-9a-f]{64})(?P<suffix>\.[a-z0-9]{1,8})?")


class UnknownKey(LookupError):
    """No object is stored under this key."""


def key_for(sha256: str, suffix: str = "") -> str:
    """The key of content whose SHA-256 (hex) is known; ``suffix`` is like ``.jpg``."""
    key = f"{sha256}{suffix}"
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a content key: {key!r}")
    return key


def content_key(data: bytes, suffix: str = "") -> str:
    """The key ``data`` is stored under."""
    return key_for(hashlib.sha256(data).hexdigest(), suffix)


@runtime_checkable
class Storage(Protocol):
    def put(self, data: bytes, suffix: str = "") -> str:
        """Store ``data``; answer its key. Storing the same bytes again changes nothing."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; :class:`UnknownKey` when there are none."""
        ...

    def exists(self, key: str) -> bool: ...


class LocalDiskStorage:
    """Files under one directory, fanned out by the first hex digits of the digest:
    ``<root>/3a/7b/3a7b…9f.jpg``. Writes go to a temporary file in the same directory,
    flushed to disk, then renamed into place, so a reader never sees half a file."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        match = _KEY.fullmatch(key)
        if match is None:
            raise UnknownKey(key)
        digest = match["digest"]
        return self.root / digest[:2] / digest[2:4] / key

    def put(self, data: bytes, suffix: str = "") -> str:
        key = content_key(data, suffix)
        target = self.path(key)
        if target.is_file() and target.stat().st_size == len(data):
            return key
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        _fsync_directory(target.parent)
        return key

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise UnknownKey(key) from None

    def exists(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except UnknownKey:
            return False


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
