"""Load and micro benchmarks of baize, and their runner (``python -m benchmarks.run``)."""
