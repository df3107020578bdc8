"""``python -m salesinsight``: the same as the ``salesinsight`` command."""

import sys

from salesinsight.cli import main

if __name__ == "__main__":
    sys.exit(main())
