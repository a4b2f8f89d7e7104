#!/usr/bin/env python3
"""Draws the test digits under tests/digits/: the ten digits as stroke paths (polylines and
arcs in a unit box), rendered anti-aliased at other sizes than MNIST's, dark ink on a light
background and light on dark, with thin and thick strokes and a slant — digits nobody here
wrote, for `pse-trainer annotate --preprocess mnist` (tests/tests/digits.rs checks them).

Pure Python (no packages), deterministic: running it again writes the same bytes.
    scripts/draw-digits.py [OUT_DIR]      (default tests/digits)
The file name holds the expected label: <digit>-<variant>.png.
"""
import math
import os
import struct
import sys
import zlib


def arc(cx, cy, rx, ry, a0, a1, n=24):
    """Points on an ellipse arc, angles in degrees (0 = right, 90 = down)."""
    return [(cx + rx * math.cos(math.radians(a0 + (a1 - a0) * i / n)),
             cy + ry * math.sin(math.radians(a0 + (a1 - a0) * i / n))) for i in range(n + 1)]


# Each digit: a list of strokes, each a list of (x, y) in [0, 1]², y down.
DIGITS = {
    0: [arc(0.5, 0.5, 0.32, 0.45, 0, 360, 40)],
    1: [[(0.38, 0.2), (0.55, 0.05), (0.55, 0.95)]],
    2: [arc(0.5, 0.3, 0.3, 0.25, 190, 360) + arc(0.5, 0.3, 0.3, 0.25, 0, 40)
        + [(0.18, 0.95), (0.85, 0.95)]],
    3: [arc(0.48, 0.28, 0.3, 0.23, 200, 450), arc(0.48, 0.72, 0.33, 0.23, 270, 520)],
    4: [[(0.68, 0.95), (0.68, 0.05), (0.15, 0.68), (0.88, 0.68)]],
    5: [[(0.82, 0.06), (0.32, 0.06), (0.27, 0.45)] + arc(0.5, 0.66, 0.32, 0.28, 225, 500)],
    6: [[(0.75, 0.08)] + arc(0.55, 0.55, 0.38, 0.45, 250, 180)
        + arc(0.5, 0.7, 0.3, 0.25, 180, 540)],
    7: [[(0.15, 0.06), (0.85, 0.06), (0.42, 0.95)]],
    8: [arc(0.5, 0.27, 0.26, 0.22, 0, 360, 32), arc(0.5, 0.72, 0.32, 0.24, 0, 360, 32)],
    9: [arc(0.48, 0.3, 0.3, 0.25, 0, 360, 32) + [(0.78, 0.3), (0.72, 0.95)]],
}

# name: (width, height, stroke width in pixels, slant, dark ink on light)
VARIANTS = {
    "thin-dark-on-light-48x64": (48, 64, 2.2, 0.0, True),
    "thick-light-on-dark-96x96": (96, 96, 11.0, 0.0, False),
    "slanted-dark-on-light-40x36": (40, 36, 3.0, 0.18, True),
}


def seg_dist(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    ll = dx * dx + dy * dy
    t = 0.0 if ll == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / ll))
    qx, qy = ax + t * dx - px, ay + t * dy - py
    return math.sqrt(qx * qx + qy * qy)


def render(strokes, w, h, stroke, slant, dark):
    # The digit's box: 70 % of the height, aspect 0.7, centred, then slanted.
    bh = 0.7 * h
    bw = min(0.7 * bh, 0.8 * w)
    x0, y0 = (w - bw) / 2, (h - bh) / 2
    segs = []
    for s in strokes:
        pts = [(x0 + x * bw + slant * (0.5 - y) * bh, y0 + y * bh) for x, y in s]
        segs += [(a, b) for a, b in zip(pts, pts[1:])]
    rows = []
    for yy in range(h):
        row = bytearray()
        for xx in range(w):
            d = min(seg_dist(xx + 0.5, yy + 0.5, a[0], a[1], b[0], b[1]) for a, b in segs)
            ink = max(0.0, min(1.0, stroke / 2 + 0.5 - d))
            v = ink * 255
            row.append(round(235 - v * 215 / 255) if dark else round(v))
        rows.append(bytes(row))
    return rows


def png(rows, w, h):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    raw = b"".join(b"\x00" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "digits")
    os.makedirs(out, exist_ok=True)
    for d, strokes in DIGITS.items():
        for name, (w, h, stroke, slant, dark) in VARIANTS.items():
            with open(os.path.join(out, f"{d}-{name}.png"), "wb") as f:
                f.write(png(render(strokes, w, h, stroke, slant, dark), w, h))
    print(f"{len(DIGITS) * len(VARIANTS)} digits in {out}")


if __name__ == "__main__":
    main()
