"""`python -m earmark` is the `earmark` command."""

from earmark.cli import main

main()
