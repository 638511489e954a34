"""The QR code of a referral link, for print (parcel cards): an SVG data URI, made in pure Python."""

from __future__ import annotations

import segno


def qr_svg(link: str) -> str:
    """`data:image/svg+xml;...` of the link's QR code (error correction M: survives a scuffed card)."""
    return str(segno.make(link, error="m", micro=False).svg_data_uri(scale=4, border=2))
