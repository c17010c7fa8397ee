"""Draw ccmdesk's application icon and write it to ``resources/icons/``.

    python tools/make_icon.py            # writes the files (commit them)
    python tools/make_icon.py --check    # exits 1 if the committed files are missing

The icon is a teal rounded square holding a white stopwatch whose face carries
a coral heart: time spent caring for a patient.  Every size is drawn with
QPainter at that size (no down-scaling), offscreen, so no display is needed.

Written: ``ccmdesk-<N>.png`` for N in :data:`SIZES`, ``ccmdesk.png`` (256 px,
the ``Icon=ccmdesk`` of the Linux ``.desktop`` file), ``ccmdesk.ico`` (Windows:
PNG-compressed entries, 16-256 px) and ``ccmdesk.icns`` (macOS: PNG entries).
Neither container format needs Pillow: both are a small header and a table of
PNG blobs, written by hand below.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ICONS = REPO / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# icns PNG entry types by pixel size (ic07/08/09 are 128/256/512, icp4/5/6 16/32/64)
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}

TEAL_TOP, TEAL_BOTTOM = "#1f9d8f", "#136b76"
CORAL = "#ef5a5a"


def render(size: int) -> bytes:
    """The icon at ``size`` x ``size`` pixels, as PNG bytes (a QGuiApplication must exist)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
    from PySide6.QtGui import QBrush, QColor, QImage, QLinearGradient, QPainter, QPainterPath, QPen

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = float(size)

    # background: rounded square, teal gradient
    margin = s * 0.04
    back = QRectF(margin, margin, s - 2 * margin, s - 2 * margin)
    gradient = QLinearGradient(back.topLeft(), back.bottomLeft())
    gradient.setColorAt(0.0, QColor(TEAL_TOP))
    gradient.setColorAt(1.0, QColor(TEAL_BOTTOM))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(gradient))
    p.drawRoundedRect(back, s * 0.22, s * 0.22)

    white = QColor("#ffffff")
    centre = QPointF(s * 0.5, s * 0.56)
    radius = s * 0.30
    ring = max(1.0, s * 0.075)

    # the crown (button on top) and its stem
    p.setBrush(white)
    stem_w, stem_h = s * 0.09, s * 0.09
    p.drawRect(QRectF(centre.x() - stem_w / 2, centre.y() - radius - stem_h, stem_w, stem_h))
    crown_w, crown_h = s * 0.22, max(1.0, s * 0.07)
    p.drawRoundedRect(
        QRectF(
            centre.x() - crown_w / 2, centre.y() - radius - stem_h - crown_h * 0.8, crown_w, crown_h
        ),
        crown_h / 3,
        crown_h / 3,
    )

    # the ring and the face
    p.setPen(QPen(white, ring))
    p.setBrush(QColor(255, 255, 255, 235))
    p.drawEllipse(centre, radius, radius)

    if size >= 24:
        # a coral heart on the face
        h = radius * 0.95
        cx, cy = centre.x(), centre.y() + h * 0.05
        heart = QPainterPath()
        heart.moveTo(cx, cy + h * 0.42)
        heart.cubicTo(cx - h * 0.62, cy + h * 0.02, cx - h * 0.42, cy - h * 0.48, cx, cy - h * 0.2)
        heart.cubicTo(cx + h * 0.42, cy - h * 0.48, cx + h * 0.62, cy + h * 0.02, cx, cy + h * 0.42)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(CORAL))
        p.drawPath(heart)

    # the hand, from the centre towards one o'clock
    hand = QPen(QColor(TEAL_BOTTOM), max(1.0, s * 0.05))
    hand.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(hand)
    p.drawLine(centre, QPointF(centre.x() + radius * 0.45, centre.y() - radius * 0.62))
    p.end()

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def ico(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico of PNG-compressed entries (allowed since Windows Vista)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    table, blobs = b"", b""
    for size in sizes:
        blob = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256
        table += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset)
        blobs += blob
        offset += len(blob)
    return header + table + blobs


def icns(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns of PNG entries."""
    body = b"".join(
        ICNS_TYPES[size] + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
        for size in sorted(pngs)
        if size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def outputs() -> list[Path]:
    names = [f"ccmdesk-{size}.png" for size in SIZES]
    return [ICONS / name for name in [*names, "ccmdesk.png", "ccmdesk.ico", "ccmdesk.icns"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the files exist")
    args = parser.parse_args(argv)
    if args.check:
        missing = [str(path) for path in outputs() if not path.is_file()]
        for path in missing:
            print(f"missing: {path}", file=sys.stderr)
        return 1 if missing else 0

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    pngs = {size: render(size) for size in SIZES}
    ICONS.mkdir(parents=True, exist_ok=True)
    for size, blob in pngs.items():
        (ICONS / f"ccmdesk-{size}.png").write_bytes(blob)
    (ICONS / "ccmdesk.png").write_bytes(pngs[256])
    (ICONS / "ccmdesk.ico").write_bytes(ico({s: pngs[s] for s in ICO_SIZES}))
    (ICONS / "ccmdesk.icns").write_bytes(icns(pngs))
    for path in outputs():
        print(f"{path.relative_to(REPO)}  {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
