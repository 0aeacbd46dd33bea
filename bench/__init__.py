"""Load benchmarks (run by hand; not part of the test suite's timing)."""
