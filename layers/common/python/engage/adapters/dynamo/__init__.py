"""DynamoDB adapters: one `Table` wrapper and a repository per area of the single table."""

from engage.adapters.dynamo.table import Table

__all__ = ["Table"]
