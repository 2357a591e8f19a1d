"""Run mailtrap-lite with `python -m mailtrap_lite`."""

import sys

from mailtrap_lite.cli import main

sys.exit(main())
