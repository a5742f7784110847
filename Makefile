# Thin wrappers over the npm scripts, so `make test` and `npm test` are the same thing.
.PHONY: install test lint typecheck bench migrate start status format ci secrets

install:
	npm ci

test:
	npm test

lint:
	npm run lint

typecheck:
	npm run typecheck

bench:
	npm run bench

migrate:
	npm run migrate

start:
	npm start

status:
	npm run status

format:
	npm run format

ci:
	.ci/run

# Secret files for docker-compose.yml (mode 600, never overwrites a file that holds a value).
secrets:
	docker/make-secrets.sh
