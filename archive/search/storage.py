"""A whoosh file storage whose new files are built in memory and written to disk in one go on close.

whoosh's writer calls `tell()` on its files tens of thousands of times per commit; on a buffered
file each is an lseek() system call, which releases the GIL. In a process that is also searching
(a web server), the writer then waits for the GIL after every one of them (a "convoy"), and a
commit that takes 150 ms alone took seconds. In memory, tell() is a plain method call.

Used for incremental updates and merges (small segments); a rebuild writes real files, in
processes of its own.
"""

from __future__ import annotations

import io
import os
from typing import Any

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile


class _MemoryFile:
    """A BytesIO without `fileno`, so that StructFile treats it as the file-like object it is."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()

    def __getattr__(self, name: str) -> Any:
        if name == "fileno":
            raise AttributeError(name)
        return getattr(self._buffer, name)

    def getvalue(self) -> bytes:
        return self._buffer.getvalue()


class MemoryWriteStorage(FileStorage):
    def create_file(self, name: str, excl: bool = False, mode: str = "wb", **kwargs: Any) -> StructFile:
        if self.readonly:
            from whoosh.filedb.filestore import ReadOnlyError
            raise ReadOnlyError
        path = self._fpath(name)
        if excl:  # claim the name now, as whoosh expects of an exclusive create
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        memory = _MemoryFile()
        then = kwargs.pop("onclose", None)

        def write_out(structfile: StructFile) -> None:
            with open(path, "wb") as f:
                f.write(memory.getvalue())
            if then is not None:
                then(structfile)

        return StructFile(memory, name=name, onclose=write_out, **kwargs)
