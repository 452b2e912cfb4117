"""``python -m domovoy`` is the same as the ``domovoy`` console script."""

from domovoy.cli import main

raise SystemExit(main())
