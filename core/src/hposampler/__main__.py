"""``python -m hposampler`` runs the command line."""

from .cli import main

main()
