"""Where the store's files live: a folder on the local disk, or an S3-compatible object store.

Both hold the same keys (the store's relative paths, e.g. originals/ab/cd/<sha256>) and are
written from local files and read as streams, so nothing holds a whole file in memory. Only the
store (archive.store) and `crossings store copy` use them.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol

#: Bytes read from an object per request of a stream, and the part size of multipart uploads.
CHUNK = 8 * 1024 * 1024


class Objects(Protocol):
    """What the store asks of a backend; keys are relative paths with forward slashes."""

    def put(self, key: str, source: Path, *, sha256: str = "") -> None:
        """Store the local file `source` under `key` (the caller removes `source` afterwards); `sha256`,
        when known, is kept with it where the backend can (checksum())."""

    def checksum(self, key: str) -> str | None:
        """The SHA-256 recorded with the object when it was put, without reading it; None if none was."""

    def size(self, key: str) -> int | None:
        """The stored size in bytes, or None when there is no such object."""

    def open(self, key: str) -> BinaryIO:
        """A seekable binary stream of the object; FileNotFoundError when there is none."""

    def delete(self, key: str) -> None:
        """Remove the object if it is there."""

    def delete_prefix(self, prefix: str) -> None:
        """Remove every object whose key starts with `prefix` + "/"."""

    def keys(self, prefix: str) -> Iterator[str]:
        """Every key under `prefix` + "/"."""

    def local_path(self, key: str) -> Path | None:
        """The object as a local file, when the backend keeps it as one."""


def sha256_object(objects: Objects, key: str) -> str | None:
    """The SHA-256 of an object, read as a stream; None when there is no such object."""
    digest = hashlib.sha256()
    try:
        with objects.open(key) as fh:
            while chunk := fh.read(1024 * 1024):
                digest.update(chunk)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


class LocalObjects:
    """Files under a folder (the data root), written by rename when the source is on the same disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"{key!r} is outside the data root")
        return path

    def put(self, key: str, source: Path, *, sha256: str = "") -> None:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, dest)
        except OSError:  # another filesystem: copy beside the destination, then rename into place
            partial = dest.with_name(dest.name + ".partial")
            shutil.copyfile(source, partial)
            os.replace(partial, dest)

    def checksum(self, key: str) -> str | None:
        return None  # a file carries no metadata: hash it

    def size(self, key: str) -> int | None:
        path = self._path(key)
        return path.stat().st_size if path.is_file() else None

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self._path(prefix), ignore_errors=True)

    def keys(self, prefix: str) -> Iterator[str]:
        base = self._path(prefix)
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.endswith(".partial"):
                yield path.relative_to(self.root).as_posix()

    def local_path(self, key: str) -> Path | None:
        return self._path(key)


class S3Objects:
    """Objects in one bucket of an S3-compatible store (boto3), under an optional key prefix.

    Credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), as boto3
    reads them, never from the configuration file.
    """

    def __init__(self, *, endpoint_url: str, bucket: str, region: str, prefix: str = "") -> None:
        import boto3
        from botocore.config import Config
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client: Any = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5, "mode": "standard"},
                          signature_version="s3v4"))
        from boto3.s3.transfer import TransferConfig
        self._transfer = TransferConfig(multipart_threshold=CHUNK, multipart_chunksize=CHUNK, max_concurrency=2)

    def _key(self, key: str) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"{key!r} is outside the store")
        return self.prefix + key

    def put(self, key: str, source: Path, *, sha256: str = "") -> None:
        # upload_file reads the file in parts (multipart above CHUNK): never the whole file in memory.
        extra = {"Metadata": {"sha256": sha256}} if sha256 else None
        self.client.upload_file(str(source), self.bucket, self._key(key), ExtraArgs=extra, Config=self._transfer)

    def _head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def size(self, key: str) -> int | None:
        head = self._head(key)
        return None if head is None else head["ContentLength"]

    def checksum(self, key: str) -> str | None:
        head = self._head(key)
        return None if head is None else head.get("Metadata", {}).get("sha256") or None

    def open(self, key: str) -> BinaryIO:
        size = self.size(key)
        if size is None:
            raise FileNotFoundError(f"{key}: no such object in bucket {self.bucket}")
        return io.BufferedReader(_ObjectReader(self.client, self.bucket, self._key(key), size), CHUNK // 8)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def delete_prefix(self, prefix: str) -> None:
        keys = [{"Key": self._key(k)} for k in self.keys(prefix)]
        for start in range(0, len(keys), 1000):
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys[start:start + 1000]})

    def keys(self, prefix: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                       Prefix=self._key(prefix) + "/")
        for page in pages:
            for entry in page.get("Contents", []):
                yield entry["Key"][len(self.prefix):]

    def local_path(self, key: str) -> Path | None:
        return None

    def presigned_url(self, key: str, *, expires_seconds: int, **params: str) -> str:
        """A URL anyone may GET the object with until it expires (ResponseContentType and the like in `params`)."""
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._key(key), **params}, ExpiresIn=expires_seconds)


class _ObjectReader(io.RawIOBase):
    """A seekable stream of one object: each read after a seek opens a ranged GET from there."""

    def __init__(self, client: Any, bucket: str, key: str, size: int) -> None:
        self._client, self._bucket, self._key, self._size = client, bucket, key, size
        self._pos = 0
        self._body: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        new = max(0, base + offset)
        if new != self._pos:
            self._drop_body()
            self._pos = new
        return self._pos

    def readinto(self, buffer: Any) -> int:
        if self._pos >= self._size or len(buffer) == 0:
            return 0
        if self._body is None:
            answer = self._client.get_object(Bucket=self._bucket, Key=self._key, Range=f"bytes={self._pos}-")
            self._body = answer["Body"]
        data = self._body.read(len(buffer))
        if not data:
            raise OSError(f"{self._key}: the object ended at byte {self._pos} of {self._size}")
        buffer[:len(data)] = data
        self._pos += len(data)
        return len(data)

    def _drop_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._drop_body()
        super().close()
