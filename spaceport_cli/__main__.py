"""``python -m spaceport_cli``: the same as the ``spaceport`` command."""

from __future__ import annotations

from spaceport_cli.main import main

raise SystemExit(main())
