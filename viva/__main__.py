"""Allow ``python -m viva``."""

from viva.cli import main

raise SystemExit(main())
