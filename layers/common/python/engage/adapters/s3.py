"""The imports bucket over S3: streamed reads (ranged GETs), whole small writes, multipart-free streamed
writes through a spooled file, presigned PUT and GET links.

Presigned links are made by a client whose endpoint may differ from the one that reads and writes:
the local runtime serves S3 under its own address (`ENGAGE_S3_PUBLIC_ENDPOINT`), so links it hands
out reach it; in AWS the setting is empty and links point at S3 itself.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from engage.core.errors import StorageError

READ_CHUNK = 64 * 1024
SPOOL_BYTES = 4 * 1024 * 1024  # a streamed write stays in memory up to this, then goes to /tmp


class S3Files:
    def __init__(self, client: Any, bucket: str, *, presigner: Any | None = None):
        self.client = client
        self.bucket = bucket
        self.presigner = presigner or client

    def lines(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        if end is not None and end <= start:
            return
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if start or end is not None:
            kwargs["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            body = self.client.get_object(**kwargs)["Body"]
        except ClientError as error:
            raise StorageError(f"cannot read s3://{self.bucket}/{key}: {error}") from error
        pending = b""
        try:
            for part in body.iter_chunks(READ_CHUNK):
                pending += part
                *complete, pending = pending.split(b"\n")
                for line in complete:
                    yield line + b"\n"
            if pending:
                yield pending
        finally:
            body.close()

    def put(self, key: str, body: bytes, content_type: str = "text/csv") -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def put_stream(self, key: str, parts: Iterable[bytes], content_type: str = "text/csv") -> int:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            for part in parts:
                spool.write(part)
            size = spool.tell()
            spool.seek(0)
            self.client.upload_fileobj(spool, self.bucket, key, ExtraArgs={"ContentType": content_type})
        return size

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def upload_url(self, key: str, *, expires: int) -> str:
        return str(
            self.presigner.generate_presigned_url(
                "put_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires
            )
        )

    def download_url(self, key: str, *, expires: int, filename: str) -> str:
        return str(
            self.presigner.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentDisposition": f'attachment; filename="{filename}"',
                    "ResponseContentType": "text/csv",
                },
                ExpiresIn=expires,
            )
        )
