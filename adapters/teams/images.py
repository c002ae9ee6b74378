"""A chart small enough to ride inside a Teams card: Teams shows a card's image from a data URI,
and the whole card must stay under about 28 KB, so the PNG is drawn again in a few colours
(and, if still too heavy, smaller) with Pillow."""

from __future__ import annotations

import base64
import io
import logging
from pathlib import Path

log = logging.getLogger(__name__)

#: What the image may weigh once in base64, leaving room for the card's text.
IMAGE_BYTES = 18_000
COLOURS = 16


def data_uri(path: Path, limit: int = IMAGE_BYTES) -> str:
    """The PNG at `path` as a data URI within `limit` bytes, or '' if it cannot be made so."""
    from PIL import Image

    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
    except (OSError, ValueError) as exc:
        log.warning("chart %s unreadable: %s", path.name, type(exc).__name__)
        return ""
    width = image.width
    while width >= 200:
        scaled = image if width == image.width else image.resize(
            (width, round(image.height * width / image.width)), Image.Resampling.LANCZOS)
        small = scaled.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT)
        buffer = io.BytesIO()
        small.save(buffer, format="PNG", optimize=True)
        encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
        uri = f"data:image/png;base64,{encoded}"
        if len(uri) <= limit:
            return uri
        width = int(width * 0.8)
    log.warning("chart %s stays over %d bytes even small; sent without it", path.name, limit)
    return ""
