"""Drop-in replacements for other libraries' sampler classes (:mod:`.ablator`)."""
