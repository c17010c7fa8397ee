"""ccmdesk's own icon, for the window, the tray and the bundle."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from ccmdesk import paths

SIZES = (16, 24, 32, 48, 64, 128, 256)


def app_icon() -> QIcon:
    """ccmdesk's icon, every size drawn by ``tools/make_icon.py``.

    Null (Qt then shows its default) if the icon files are missing.
    """
    icon = QIcon()
    try:
        folder = paths.resource("icons")
    except FileNotFoundError:
        return icon
    for size in SIZES:
        file = folder / f"ccmdesk-{size}.png"
        if file.is_file():
            icon.addFile(str(file))
    return icon
