"""Ground truth, suites and benchmarks. May import core, families and learn; never the CLI."""
