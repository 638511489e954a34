"""Infrastructure failures (retry the notification) told apart from content the request cannot store."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from engage.adapters.transient import is_transient
from engage.core.errors import StorageError


def client_error(code: str, reasons: list[str | None] | None = None) -> ClientError:
    response: dict = {"Error": {"Code": code, "Message": code}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": r} if r else {"Code": "None"} for r in reasons]
    return ClientError(response, "PutItem")


@pytest.mark.parametrize(
    "error",
    [
        client_error("ProvisionedThroughputExceededException"),
        client_error("ThrottlingException"),
        client_error("InternalServerError"),
        client_error("ServiceUnavailable"),
        client_error("SomethingNew"),
        client_error("TransactionCanceledException", ["ThrottlingError", None]),
        EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com"),
        ReadTimeoutError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com"),
        StorageError("batch_get: keys left unprocessed after 8 retries"),
    ],
)
def test_infrastructure_failures_are_transient(error):
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        client_error("ValidationException"),
        client_error("TransactionCanceledException", ["ValidationError", None]),
        UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
        TypeError("Infinity and NaN not supported"),
        RecursionError("maximum recursion depth exceeded"),
        ValueError("bad value"),
    ],
)
def test_content_failures_are_not_transient(error):
    assert not is_transient(error)
