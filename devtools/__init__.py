"""Development tools: the evaluation scorer, loopback HTTP fixtures and the reliability harness.

Used by tests/ and benchmarks/ from a checkout (run from the repository root); not part of the
shipped package, which is service/ and workers/ only.
"""
