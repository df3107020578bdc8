"""``python -m salesinsight.report --in-place``: re-execute the notebooks on the bundled sample."""

import sys

from salesinsight.report.notebooks import main

sys.exit(main())
