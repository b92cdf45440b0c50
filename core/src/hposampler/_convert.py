"""The cattrs converter shared by hposampler's data classes (JSON-friendly)."""

from __future__ import annotations

import cattrs

__all__ = ["converter"]

#: Structures JSON data into hposampler's attrs classes and back. Extra keys are
#: rejected so a typo in a stored record or a config file is an error, not ignored.
converter = cattrs.Converter(forbid_extra_keys=True)
