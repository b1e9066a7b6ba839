"""The throughput benchmark (`make bench`, `python -m bench`): bench/run.py."""
