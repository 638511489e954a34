"""Which failures are the infrastructure's (retry the whole unit of work) and which are the content's.

The webhook keeps a part it cannot store as rejected and answers 200; only an infrastructure
failure (throttling, a service error, the network, credentials) fails the notification so that
Meta delivers it again. Unknown AWS error codes count as infrastructure: retrying is the safe side.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from engage.core.errors import StorageError

# AWS says the request itself is wrong: sending it again gives the same answer.
CONTENT_CODES = frozenset(
    {
        "ValidationException",
        "SerializationException",
        "ItemCollectionSizeLimitExceededException",
        "InvalidParameterValue",  # SQS
        "InvalidMessageContents",  # SQS
    }
)
# Reasons of a cancelled transaction that a retry may not meet again.
TRANSIENT_REASONS = frozenset(
    {"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict", "RequestLimitExceeded", "InternalError"}
)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, StorageError | BotoCoreError):
        return True
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code == "TransactionCanceledException":
            reasons = {str(r.get("Code")) for r in error.response.get("CancellationReasons", []) if r}
            return bool(reasons & TRANSIENT_REASONS) or not reasons
        return code not in CONTENT_CODES
    return False
