"""Testing helpers for sampler authors: hypothesis strategies and the conformance kit."""
