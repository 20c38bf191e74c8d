"""`python -m stream.cli`: the `healthscore` command."""

from stream.cli import main

main()
