"""``python -m ccmdesk`` runs the same entry point as the ``ccmdesk`` command."""

import sys

from ccmdesk.cli import main

sys.exit(main())
