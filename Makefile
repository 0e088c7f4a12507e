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
