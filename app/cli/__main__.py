"""`python -m app.cli ...`: the same as the `hindsight` script."""

import sys

from app.cli import main

sys.exit(main())
