"""Engage: WhatsApp customer engagement on AWS Lambda."""

__version__ = "0.1.0"
