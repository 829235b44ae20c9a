"""`python -m paperset.cli`: the command line, as the `paperset` script runs it."""

import sys

from paperset.cli import main

sys.exit(main())
