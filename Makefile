.PHONY: demo test lint install migrate up bench chaos

## The main command: install, provision, start the stack, process the sample meeting.
demo:
	scripts/bootstrap.sh
	scripts/provision.sh
	scripts/demo.sh

## The test command (.ci/run calls it): install everything, lint, type-check, run all tests.
test:
	scripts/test.sh

install:
	scripts/bootstrap.sh
	scripts/provision.sh

lint:
	uv run ruff check .
	uv run ruff format --check .
	uv run mypy

## Benchmarks (docs/benchmarks.md): like `make demo` it installs and starts PostgreSQL and
## RabbitMQ, then runs every scenario and writes bench/results/<date>-<host>.json and the table.
bench:
	scripts/bootstrap.sh
	scripts/provision.sh
	uv run python -m bench

## Chaos run (docs/reliability.md): 1,000 meetings through 2 gateways and 2 of each worker
## while processes are killed, RabbitMQ/PostgreSQL restart and proxies inject faults.
chaos:
	scripts/bootstrap.sh
	scripts/provision.sh
	uv run python scripts/chaos.py
