"""The README's set-up commands are the ones CI runs and the ones that work."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def first_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```(?:sh|bash)?\n(.*?)```", text, re.S)
    assert block, "the README must start with a code block of set-up commands"
    return [line for line in block[1].splitlines() if line and not line.startswith("#")]


def test_readme_starts_with_the_demo_and_the_test_command():
    demo, tests = first_commands()
    assert demo.endswith("ccmdesk demo")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert f"TEST_COMMAND='{tests}'" in ci
