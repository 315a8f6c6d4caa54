"""A real S3 API server for the tests: moto's server mode on 127.0.0.1.

Fixtures:

- ``s3_server``: the running server for the whole run (``s3_server.endpoint``,
  ``s3_server.client()``: a boto3 client on it); boto3 gets dummy credentials
  through its environment, as a shop's would come from its own chain.
- ``s3_bucket``: a new, empty bucket of the test's own.
"""

from __future__ import annotations

import itertools
import socket
from collections.abc import Iterator
from typing import Any

import pytest

HOST = "127.0.0.1"
_numbers = itertools.count(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class S3Server:
    def __init__(self, endpoint: str) -> None:
        import boto3

        self.endpoint = endpoint
        self._client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")

    def client(self) -> Any:
        """The tests' own boto3 client on the server (one, closed at the end)."""
        return self._client

    def close(self) -> None:
        self._client.close()

    def keys(self, bucket: str) -> list[str]:
        """Every object key in ``bucket``."""
        answer = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in answer.get("Contents", []))


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    pytest.importorskip("moto.server", reason="the s3 tests need the test extra (moto[server], boto3)")
    from moto.server import ThreadedMotoServer

    port = free_port()
    with pytest.MonkeyPatch.context() as environment:
        # Dummy credentials, found by boto3's usual chain: never the plugin's settings.
        environment.setenv("AWS_ACCESS_KEY_ID", "mirette-test")
        environment.setenv("AWS_SECRET_ACCESS_KEY", "mirette-test-secret")
        environment.delenv("AWS_PROFILE", raising=False)
        environment.delenv("AWS_SESSION_TOKEN", raising=False)
        server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
        server.start()
        s3 = S3Server(f"http://{HOST}:{port}")
        try:
            yield s3
        finally:
            s3.close()
            server.stop()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    name = f"mirette-photos-{next(_numbers)}"
    s3_server.client().create_bucket(Bucket=name)
    return name
