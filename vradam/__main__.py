"""``python -m vradam``: see :mod:`vradam.cli`."""

from vradam.cli import main

raise SystemExit(main())
