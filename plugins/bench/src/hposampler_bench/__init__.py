"""hposampler-bench: the ``hpobench`` and ``bbob`` suites for ``hposampler bench``.

See :mod:`hposampler_bench.hpobench` and :mod:`hposampler_bench.bbob`; both are
registered by :mod:`hposampler_bench.plugin` through the ``register_suites`` hook.
"""

__version__ = "0.1.0"
