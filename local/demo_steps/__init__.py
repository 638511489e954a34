"""The demo's steps, in the order they run. Each is a module here with `def run(demo) -> None`.

Add yours as `local/demo_steps/<area>.py` and put its name in ORDER where it belongs in the story.
Modules not listed still run, after the listed ones, in alphabetical order.
"""

ORDER = [
    "imports",
    "foundation",
    "webhook",
    "tagging",
    "segments",
    "sending",
    "replies",
    "metrics",
    "journeys",
]
