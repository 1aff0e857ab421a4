"""``python -m tripletws``: the command line (see :mod:`tripletws.cli`)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
