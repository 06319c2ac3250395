"""``python -m xlplan``: the command line.

The guard matters: ``xlplan serve`` starts worker processes with "spawn", which
import this module again in each worker.
"""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
