"""`python -m sweep.bench`: the benchmark, benchmarks/bench.py (run from the repository root; see its --help)."""
from benchmarks.bench import main

if __name__ == "__main__":
    main()
