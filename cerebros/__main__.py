"""``python -m cerebros``: the ``cerebros`` command line (see :mod:`cerebros.cli`)."""

import sys

from cerebros.cli import main

sys.exit(main())
