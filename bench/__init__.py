"""Minuta's benchmark harness: ``python -m bench`` (or ``make bench``).

It starts the stack (gateway and one worker process per stage) on the local RabbitMQ and
PostgreSQL, drives it from a separate load-generator process (``bench.loadgen``), and writes
``bench/results/<date>-<host>.json`` plus the table in ``docs/benchmarks.md``.
"""
