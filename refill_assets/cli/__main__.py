"""`python -m refill_assets.cli`: the `refill` command."""

import sys

from refill_assets.cli.main import main

sys.exit(main())
