"""Run mailtrap-lite with `python -m mailtrap_lite`."""

import sys

from mailtrap_lite.cli import main

# The guard matters: the indexer's worker process is spawned, and spawning re-imports the
# main module; without it the worker would start a second server.
if __name__ == "__main__":
    sys.exit(main())
