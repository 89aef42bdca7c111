"""`python -m satchel` runs the same CLI as the `satchel` console script."""

from satchel.cli.main import main

main()
