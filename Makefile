# Thin wrappers: over docker compose for the stack as containers (up, down, logs, ps, status, backup,
# restore, deploy), and over the npm scripts, so `make test` and `npm test` are the same thing.
.PHONY: install test lint typecheck bench migrate start status format ci secrets totp up down logs ps backup backup-list restore proxy-ca deploy user

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

# The status screen: inside the execution container when the compose stack runs, else `npm run status`.
status:
	@if docker compose ps --status running --services 2>/dev/null | grep -qx execution; then \
	  docker compose exec execution node packages/stack/src/cli/ibstack.js; \
	else \
	  npm run status; \
	fi

format:
	npm run format

ci:
	.ci/run

# Secret files for docker-compose.yml (mode 600, never overwrites a file that holds a value).
secrets:
	docker/make-secrets.sh

# Compare the TOTP secret's current code with your authenticator app (Node on the host, or the image).
totp:
	@if command -v node >/dev/null 2>&1 && [ -d node_modules ]; then \
	  npm run --silent totp -- check --file secrets/ib_totp_key; \
	else \
	  docker compose run --rm --no-deps -v "$$PWD/secrets/ib_totp_key:/run/secrets/ib_totp_key:ro" \
	    --entrypoint node execution packages/stack/src/cli/totp.js check --file /run/secrets/ib_totp_key; \
	fi

# The stack as containers, in the background (settings in .env, see .env.example).
up:
	@test -s secrets/database_url || { echo "no secrets yet: run make secrets first" >&2; exit 78; }
	docker compose up -d --build
	@echo "started; make logs follows them, make status shows what the stack does"

down:
	docker compose down

logs:
	docker compose logs -f --tail=100

ps:
	docker compose ps

# Backups (services/backup): take one now, list them, put one back (stops and restarts the stack).
backup:
	docker compose run --rm --no-deps -T backup node services/backup/src/cli.js backup

backup-list:
	docker compose run --rm --no-deps -T backup node services/backup/src/cli.js list

restore:
	@scripts/restore.sh "$(FILE)"

# Dashboard users, inside the running dashboard-api container (the password is asked for, never an
# argument): make user ARGS="add alice --role operator", ARGS=list, ARGS="remove alice".
user:
	docker compose exec dashboard-api node services/dashboard-api/src/cli/user.js $(ARGS)

# The internal CA's certificate, to import into a browser when the proxy has no domain (infra/proxy).
proxy-ca:
	@docker compose exec -T proxy cat /var/lib/ibstack-tls/ca/ca.crt

# Deploy a commit on this host as the push-to-main workflow does (scripts/deploy.sh: backup, build, up,
# health gate, rollback): `make deploy COMMIT=origin/main`.
deploy:
	@scripts/deploy.sh "$(COMMIT)"
