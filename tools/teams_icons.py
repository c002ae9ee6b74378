"""Draw the Teams app's icons: adapters/teams/color.png and outline.png.

Run it again after changing the drawing (`.venv/bin/python tools/teams_icons.py`) and commit
the PNGs; `baton teams package` only copies them. Pillow comes with matplotlib, which Baton
installs for its charts, so this needs nothing more.

Teams wants a 192x192 full-colour icon (the symbol inside the middle 120 px) and a 32x32
outline icon: white on a transparent background, no padding. The symbol is a relay baton
handed on, drawn at eight times the size and scaled down for smooth edges.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parents[1] / "adapters" / "teams"
ACCENT = (15, 118, 110)  # #0F766E, the manifest's accentColor
WHITE = (255, 255, 255)
SCALE = 8


def baton_mask(size: int, margin: float) -> Image.Image:
    """The symbol as an alpha mask of `size` pixels: a baton lying from lower left to upper
    right, with two grip rings cut out, and two speed lines behind it."""
    big = size * SCALE
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    span = big * 0.6
    centre = big / 2
    length, thick = span * 0.92, span * 0.26
    angle = math.radians(-45)
    dx, dy = math.cos(angle), math.sin(angle)
    nx, ny = -dy, dx

    def along(t: float, s: float) -> tuple[float, float]:
        """The point t of the baton's length from its centre and s across it."""
        return centre + dx * t + nx * s, centre + dy * t + ny * s

    half = (length - thick) / 2
    draw.line([along(-half, thick * 0.18), along(half, thick * 0.18)], fill=255,
              width=round(thick))
    for end in (-half, half):  # rounded ends
        x, y = along(end, thick * 0.18)
        r = thick / 2
        draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    for t in (-half * 0.55, half * 0.55):  # grip rings
        draw.line([along(t, thick * 0.18 - thick), along(t, thick * 0.18 + thick)], fill=0,
                  width=round(thick * 0.16))
    for s, t0, t1 in ((thick * 1.05, -half * 1.05, -half * 0.2),
                      (thick * 1.75, -half * 0.75, -half * 0.05)):  # speed lines
        draw.line([along(t0, s), along(t1, s)], fill=255, width=round(thick * 0.22))
        for t in (t0, t1):
            x, y = along(t, s)
            r = thick * 0.11
            draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    # Centred on its own extent, scaled to fill the square inside the margin.
    symbol = mask.crop(mask.getbbox())
    room = round(size * (1 - 2 * margin)) * SCALE
    ratio = room / max(symbol.size)
    symbol = symbol.resize((round(symbol.width * ratio), round(symbol.height * ratio)),
                           Image.Resampling.LANCZOS)
    placed = Image.new("L", (big, big), 0)
    placed.paste(symbol, ((big - symbol.width) // 2, (big - symbol.height) // 2))
    return placed.resize((size, size), Image.Resampling.LANCZOS)


def colour_icon() -> Image.Image:
    """192x192, opaque: the white symbol on the accent colour, inside the middle 120 px."""
    icon = Image.new("RGB", (192, 192), ACCENT)
    icon.paste(Image.new("RGB", (192, 192), WHITE), mask=baton_mask(192, 36 / 192))
    return icon


def outline_icon() -> Image.Image:
    """32x32: every pixel white, the symbol only in the alpha channel."""
    icon = Image.new("RGBA", (32, 32), (*WHITE, 0))
    icon.putalpha(baton_mask(32, 0.5 / 32))
    return icon


def main() -> None:
    colour_icon().save(HERE / "color.png", optimize=True)
    outline_icon().save(HERE / "outline.png", optimize=True)
    print(f"wrote {HERE / 'color.png'} and {HERE / 'outline.png'}")


if __name__ == "__main__":
    main()
