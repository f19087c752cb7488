"""``python -m cerebros``: the ``cerebros`` command line (see :mod:`cerebros.cli`), which,
like the ``cerebros`` command, loads TensorFlow only for the commands that need it."""

import os
import sys

os.environ.setdefault("CEREBROS_LAZY_IMPORT", "1")

from cerebros.cli import main  # noqa: E402

sys.exit(main())
