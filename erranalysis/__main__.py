"""python -m erranalysis."""

from .cli import main

main()
