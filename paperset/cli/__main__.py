"""`python -m paperset.cli`: the command line, as the `paperset` script runs it."""

from paperset.cli import script

script()
