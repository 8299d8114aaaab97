"""python -m erranalysis."""

from .console import main

main()
