"""Logger, Tracer and Metrics shared by every function (service name from POWERTOOLS_*)."""

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Engage")  # also when imported early
