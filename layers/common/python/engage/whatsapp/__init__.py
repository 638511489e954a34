"""WhatsApp Cloud API: inbound notification models and payload signatures (no I/O here)."""
