"""PyInstaller's entry script for ccmdesk (see build.spec): the ``ccmdesk`` command."""

import sys

from ccmdesk.cli import main

if __name__ == "__main__":
    sys.exit(main())
