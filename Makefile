.PHONY: run test requirements audit

## Set up what is missing and serve http://127.0.0.1:8000 (web, Celery worker, beat).
run:
	@bash scripts/run.sh

## The same set-up, then lint and the whole test suite. Extra pytest arguments: ARGS="-k health".
test:
	@bash scripts/test.sh $(ARGS)

## Re-pin requirements.txt after editing requirements.in.
requirements:
	.venv/bin/pip-compile --strip-extras --no-emit-index-url --no-emit-find-links requirements.in

## Check the pinned requirements for known vulnerabilities (pip-audit); fails on high or
## critical ones, and says so (exit 3) when the vulnerability service cannot be reached.
audit:
	@.venv/bin/python scripts/dependency_audit.py
