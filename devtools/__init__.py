"""Development tools, apart from the product apps: the demo data (`make demo`), the benchmark
generators and timings (`make bench*`), and their management commands. No product app imports
this package (an import-linter contract)."""
