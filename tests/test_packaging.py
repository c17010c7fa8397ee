"""The packaging inputs are in place: icons, the PyInstaller spec, the .desktop file, CI.

Building the wheel and the bundle and running them is ``.ci/package`` (run by ``.ci/run``);
these tests only check, quickly, what that build relies on.
"""

from __future__ import annotations

import configparser
import importlib.util
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from ccmdesk import __version__, paths
from ccmdesk.storage.migrate import MIGRATIONS_DIR

REPO = Path(__file__).resolve().parents[1]
ICONS = REPO / "resources" / "icons"
_spec = importlib.util.spec_from_file_location("make_icon", REPO / "tools" / "make_icon.py")
assert _spec is not None and _spec.loader is not None
make_icon = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_icon)

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_generated_icon_files_are_committed():
    assert (
        subprocess.run([sys.executable, str(REPO / "tools" / "make_icon.py"), "--check"]).returncode
        == 0
    )


@pytest.mark.parametrize("size", make_icon.SIZES)
def test_each_png_is_its_size(qapp, size):
    from PySide6.QtGui import QImage

    image = QImage(str(ICONS / f"ccmdesk-{size}.png"))
    assert (image.width(), image.height()) == (size, size)
    assert image.hasAlphaChannel()


def test_the_ico_holds_png_entries_16_to_256():
    data = (ICONS / "ccmdesk.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind, count) == (0, 1, len(make_icon.ICO_SIZES))
    sizes = []
    for index in range(count):
        width, _, _, _, _, _, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * index)
        assert data[offset : offset + 8] == PNG and offset + length <= len(data)
        sizes.append(width or 256)
    assert sizes == list(make_icon.ICO_SIZES)


def test_the_icns_holds_png_entries():
    data = (ICONS / "ccmdesk.icns").read_bytes()
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    position, kinds = 8, []
    while position < len(data):
        kind, length = (
            data[position : position + 4],
            struct.unpack(">I", data[position + 4 : position + 8])[0],
        )
        assert data[position + 8 : position + 16] == PNG
        kinds.append(kind)
        position += length
    assert position == len(data)
    assert {b"ic07", b"ic08", b"icp4", b"icp5"} <= set(kinds)


def test_the_app_icon_is_found_through_paths(qapp):
    from ccmdesk.ui.icons import app_icon

    icon = app_icon()
    assert not icon.isNull()
    assert {size.width() for size in icon.availableSizes()} >= {16, 32, 256}
    assert paths.resource("icons", "ccmdesk.ico").is_file()


def test_the_spec_bundles_resources_migrations_and_fonts_and_leaves_out_unused_qt():
    spec = (REPO / "build.spec").read_text(encoding="utf-8")
    assert 'tree(ROOT / "resources", "resources")' in spec
    assert '"ccmdesk/storage/migrations"' in spec
    assert 'collect_data_files("reportlab")' in spec
    assert 'collect_submodules("alembic"' in spec and '"sqlalchemy.dialects.sqlite"' in spec
    for module in ("QtWebEngineCore", "QtQml", "QtQuick", "Qt3DCore", "QtMultimedia", "QtPdf"):
        assert f'"{module}"' in spec
    assert "upx=True" not in spec
    assert (REPO / "packaging" / "pyinstaller" / "launch.py").is_file()
    # paths.py looks for sys._MEIPASS/resources; migrate.py beside its own module
    assert MIGRATIONS_DIR == REPO / "ccmdesk" / "storage" / "migrations"


def test_the_version_has_one_source():
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", __version__)
    assert "__version__" in (REPO / "build.spec").read_text(encoding="utf-8")
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'path = "ccmdesk/__init__.py"' in pyproject
    assert "pyinstaller>=6.0" in pyproject


def test_the_linux_desktop_file():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(REPO / "packaging" / "linux" / "ccmdesk.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Name"] == "ccmdesk" and entry["Comment"]
    assert entry["Exec"] == "ccmdesk" and entry["Icon"] == "ccmdesk"
    assert entry["Categories"] == "Office;MedicalSoftware;"


def test_ci_runs_the_packaging_smoke_before_the_suite():
    run = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert run.index("\n.ci/package\n") < run.index('bash -c "$TEST_COMMAND"')
    package = (REPO / ".ci" / "package").read_text(encoding="utf-8")
    for check in (
        "pip wheel",
        "demo --no-gui --patients 20",
        "--csv -",
        "pyinstaller",
        "--version",
    ):
        assert check in package
