"""``python -m hposampler`` runs the command line."""

from hposampler.cli import console_main

console_main()
