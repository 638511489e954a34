"""The marketer console at `/app` (and `/app/*`), served from the built `console/dist`.

As CloudFront does in AWS: a path naming a built file answers that file; any other path under
`/app` answers `index.html`, and the app routes itself (SPA routing). Hashed assets are cached for
good, `index.html` never, so a rebuild shows at the next load. Without a build the answer says how
to make one (`make console`).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from local.http_api import Response

DIST = Path(__file__).resolve().parent.parent / "console" / "dist"
PREFIX = "/app"

NOT_BUILT = (
    b"<!doctype html><meta charset=utf-8><title>Engage console not built</title>"
    b"<h1>The console is not built yet</h1><p>Run <code>make console</code> "
    b"(npm ci and npm run build in console/), then reload this page.</p>"
)

TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}


def is_console(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def serve(path: str, dist: Path = DIST) -> Response:
    """The file under `dist` that `path` (below /app) names, else index.html; never outside `dist`."""
    index = dist / "index.html"
    if not index.is_file():
        return Response(503, [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-store")], NOT_BUILT)
    relative = path[len(PREFIX) :].lstrip("/")
    root = dist.resolve()
    candidate = (root / relative).resolve() if relative else index
    if relative and candidate.is_file() and candidate.is_relative_to(root):
        kind = TYPES.get(candidate.suffix) or mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
        hashed = candidate.parent.name == "assets"
        cache = "public, max-age=31536000, immutable" if hashed else "no-cache"
        return Response(200, [("content-type", kind), ("cache-control", cache)], candidate.read_bytes())
    return Response(
        200,
        [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-cache")],
        index.read_bytes(),
    )
