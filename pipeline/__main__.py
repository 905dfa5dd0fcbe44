"""`python -m pipeline …` — see pipeline/cli.py."""

from .cli import main

raise SystemExit(main())
