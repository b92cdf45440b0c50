"""hposampler's Hydra sweeper: ``defaults: [override hydra/sweeper: hposampler]``.

Hydra finds it through the ``hydra_plugins`` namespace package; :mod:`.config`
registers the config group entry, :mod:`.sweeper` holds the sweeper, and
:mod:`.params` turns Hydra's sweep syntax into an hposampler search space.
"""
