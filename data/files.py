"""The file store: where documents' bytes live, by key; the database keeps their metadata.

A local directory by default. Keys come from the database (`documents.storage_key`), yet a key
is still checked before it touches the file system: a relative path of plain names, which must
resolve inside the root even through symbolic links. Files are written atomically (a temporary
file in the same directory, then a rename), so a reader sees the old file or the new one whole.
File I/O runs in worker threads: the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol


class UnsafeKey(ValueError):
    """A key that is not a plain relative path inside the store."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    size_bytes: int


class FileStore(Protocol):
    """What the gateway needs of a store; reading a missing key raises FileNotFoundError."""

    async def put(self, key: str, content: bytes) -> StoredFile: ...

    async def read(self, key: str) -> bytes: ...

    async def exists(self, key: str) -> bool: ...


class LocalFileStore:
    """Files under one directory, at their key's relative path."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def put(self, key: str, content: bytes) -> StoredFile:
        await asyncio.to_thread(lambda: _write_atomically(self._path(key), content))
        return StoredFile(hashlib.sha256(content).hexdigest(), len(content))

    async def read(self, key: str) -> bytes:
        return await asyncio.to_thread(lambda: self._path(key).read_bytes())

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(lambda: self._path(key).is_file())

    def _path(self, key: str) -> Path:
        """The file of a key; resolving it reads links, so it runs in the worker thread too."""
        relative = PurePosixPath(key)
        if (
            not key
            or relative.is_absolute()
            # Backslashes and drive colons make paths on Windows; NUL ends them in C.
            or any(character in key for character in "\\:\0")
            or any(part in ("", ".", "..") for part in key.split("/"))
        ):
            raise UnsafeKey(f"not a plain relative file key: {key!r}")
        root = self.root.resolve()
        path = root.joinpath(*relative.parts).resolve()
        # A symbolic link inside the root must not lead out of it either.
        if not path.is_relative_to(root):
            raise UnsafeKey(f"file key leads outside the store: {key!r}")
        return path


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkstemp creates the file readable by its owner only: documents are confidential.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    # The rename itself survives a crash only once the directory is on disk too.
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
