"""The ``cerebros`` console command: :func:`cerebros.cli.main` without loading TensorFlow
before a command needs it (see ``CEREBROS_LAZY_IMPORT`` in :mod:`cerebros`)."""

import os


def main() -> int:
    """Run the ``cerebros`` command line."""
    os.environ.setdefault("CEREBROS_LAZY_IMPORT", "1")
    from cerebros.cli import main as run

    return run()
