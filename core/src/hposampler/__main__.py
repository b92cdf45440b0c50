"""``python -m hposampler`` runs the command line."""

from hposampler.cli import main

main()
