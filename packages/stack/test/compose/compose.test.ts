/**
 * docker-compose.yml, proven without a Docker engine: the compose-spec schema (dclint's copy, with ajv),
 * Debian's docker-compose 1.29 `config -q` on the keys it understands, and the stack's own rules for every
 * service, under each way of running it (SCENARIOS).
 *
 * HOW TO ADD A SERVICE
 * - Of ours (built from the Dockerfile): add a row to SERVICES with its compose name, its real config loader
 *   (the same `loadConfig` + checks its main.ts runs) and the secrets it may mount. Every rule below then
 *   applies to it: the loader must accept the compose environment (secrets read from secrets/*.example),
 *   `depends_on` must cover DATABASE_URL, NATS_URL and IB_HOST (plus `servers` for anything else it
 *   connects to), its Dockerfile target's CMD must exist, and so on.
 * - Upstream (prometheus, grafana, …): no row needed. It must still be pinned, and if long-running have a
 *   healthcheck, `restart: unless-stopped`, log rotation and a memory limit; it may mount no secret unless
 *   listed in UPSTREAM_SECRETS.
 * - The reverse proxy is the one service that may publish ports: its name goes in PUBLISHING_SERVICES.
 * - A new secret: a top-level `secrets:` entry, a secrets/<name>.example file, and the services allowed to
 *   mount it (a row's `secrets`, or UPSTREAM_SECRETS).
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  commonEnv,
  ConfigError,
  type Env as ConfigEnv,
  LIVE_CONFIRMATION_PHRASE,
  loadConfig,
  serviceUrls,
  tradingModeCheck,
} from '@ibstack/config';
import { backupEnv, standbyCheck } from '@ibstack/backup';
import { dashboardEnv } from '@ibstack/dashboard-api';
import { executionChecks, executionEnv } from '@ibstack/execution';
import { gatewaySimEnv } from '@ibstack/gateway-sim';
import { gatewaySupervisorChecks, gatewaySupervisorEnv } from '@ibstack/gateway-supervisor';
import { failoverAgentEnv } from '@ibstack/failover-agent';
import { checkIngestorEnv, ingestorEnv } from '@ibstack/ingestor';
import { notifierEnv } from '@ibstack/notifier';
import { builtInStrategies, loadSleevesFile, strategyEnv } from '@ibstack/strategy';
import Ajv from 'ajv';

import { stackEnv } from '../../src/config';

import {
  activeServices,
  buildTarget,
  type ComposeDocument,
  dependsOn,
  environmentOf,
  type Env,
  isPinnedImage,
  readCompose,
  readComposeRaw,
  readDockerfile,
  REPO,
  secretsOf,
} from './compose-file';

interface OurService {
  /** Compose service name. */
  service: string;
  /** The service's real configuration loader; throws ConfigError when it refuses the environment. */
  load(env: ConfigEnv): Record<string, unknown>;
  /** Secrets it may mount. */
  secrets: readonly string[];
  /** Runs once and exits (no healthcheck, `restart: "no"`); others depend on it completing. */
  oneShot?: boolean;
  /** A setting its loader must refuse, to prove the loader is real. @default LOG_LEVEL=loud */
  refuses?: Record<string, string>;
  /** Hosts it connects to besides those in DATABASE_URL, NATS_URL and IB_HOST. */
  servers?(config: Record<string, unknown>): string[];
  /** Runs only under this compose profile (the Telegram bot needs a token first). */
  profile?: string;
}

const SERVICES: readonly OurService[] = [
  {
    service: 'migrate',
    load: (env) => loadConfig('migrate', commonEnv.pick({ DATABASE_URL: true }), env),
    secrets: ['database_url'],
    oneShot: true,
    refuses: { DATABASE_URL_FILE: '/nonexistent/database_url' },
  },
  {
    service: 'gateway-sim',
    load: (env) => loadConfig('gateway-sim', gatewaySimEnv, env),
    secrets: [],
  },
  {
    service: 'ingestor',
    load: (env) => loadConfig('ingestor', ingestorEnv, env, { checks: [checkIngestorEnv] }),
    secrets: ['database_url'],
  },
  {
    service: 'strategy',
    load: (env) => {
      const config = loadConfig('strategy', strategyEnv, env);
      loadSleevesFile(config.SLEEVES_FILE, builtInStrategies());
      return config;
    },
    secrets: ['database_url'],
  },
  {
    service: 'backup',
    load: (env) => loadConfig('backup', backupEnv, env, { checks: [standbyCheck] }),
    secrets: ['database_url'],
    refuses: { BACKUP_KEEP: '0' },
  },
  {
    service: 'execution',
    load: (env) => loadConfig('execution', executionEnv, env, { checks: executionChecks }),
    secrets: ['database_url'],
  },
  {
    service: 'gateway-supervisor',
    load: (env) =>
      loadConfig('gateway-supervisor', gatewaySupervisorEnv, env, { checks: gatewaySupervisorChecks }),
    secrets: [],
  },
  {
    service: 'dashboard-api',
    load: (env) => loadConfig('dashboard-api', dashboardEnv, env, { checks: [tradingModeCheck] }),
    secrets: ['database_url', 'jwt_secret'],
    refuses: { JWT_SECRET_FILE: '/nonexistent/jwt_secret' },
  },
  {
    service: 'notifier',
    load: (env) => loadConfig('notifier', notifierEnv, env),
    secrets: ['database_url', 'telegram_bot_token'],
    // Its /status probes the other services' /readyz but needs none of them: the bot must answer (and say
    // what is down) exactly when something is.
    profile: 'telegram',
  },
  {
    service: 'failover-agent',
    load: (env) => loadConfig('failover-agent', failoverAgentEnv, env),
    secrets: ['database_url'],
    refuses: { FAILOVER_HOST: 'standby.example' },
    // Its NATS node's monitoring port (NATS_MONITOR_URL).
    servers: (config) => [new URL(config.NATS_MONITOR_URL as string).hostname],
    profile: 'standby',
  },
];

/** Secrets an upstream image may mount. The IB credentials belong to the gateway alone. */
const UPSTREAM_SECRETS: Readonly<Record<string, readonly string[]>> = {
  postgres: ['postgres_password'],
  'postgres-exporter': ['postgres_password'],
  alertmanager: ['alertmanager_telegram_bot_token'],
  grafana: ['grafana_admin_password'],
  gateway: ['ib_username', 'ib_password', 'ib_totp_key'],
};
const GATEWAY_SECRETS = ['ib_username', 'ib_password', 'ib_totp_key'];

/** Services that may publish a port on every interface (issue 17: the reverse proxy). */
const PUBLISHING_SERVICES: readonly string[] = ['proxy'];

const SCENARIOS: ReadonlyArray<{ name: string; env: Env }> = [
  { name: 'docker compose up (simulated gateway)', env: {} },
  {
    name: 'profile ibga, paper',
    env: { COMPOSE_PROFILES: 'ibga', IB_GATEWAY: 'gateway', GATEWAY_TIME_ZONE: 'America/New_York' },
  },
  {
    name: "profile letsencrypt: a domain with Let's Encrypt",
    env: {
      COMPOSE_PROFILES: 'letsencrypt',
      PROXY_DOMAIN: 'trading.example.com',
      ACME_EMAIL: 'ops@example.com',
    },
  },
  {
    name: 'profile ibga, live',
    env: {
      COMPOSE_PROFILES: 'ibga',
      IB_GATEWAY: 'gateway',
      TRADING_MODE: 'live',
      LIVE_TRADING_CONFIRMATION: LIVE_CONFIRMATION_PHRASE,
      IB_LOGINTYPE: 'Live Trading',
      GATEWAY_TIME_ZONE: 'America/New_York',
    },
  },
  { name: 'profile telegram', env: { COMPOSE_PROFILES: 'telegram', TELEGRAM_CHATS: '123456789:operator' } },
  {
    name: 'profile standby: a host of a failover pair',
    env: {
      COMPOSE_PROFILES: 'standby',
      FAILOVER_HOST: 'standby',
      NATS_REPLICAS: '3',
      FAILOVER_REPLICATION_SOURCES:
        '{"primary":"host=10.77.0.1 user=replicator","standby":"host=10.77.0.2 user=replicator"}',
    },
  },
];

const raw = readComposeRaw();
const dockerfile = readDockerfile();
const ours = new Map(SERVICES.map((row) => [row.service, row]));

/** The service's environment as the container sees it, with secret files read from secrets/*.example. */
function containerEnv(document: ComposeDocument, service: string): Record<string, string> {
  const environment = environmentOf(document.services[service]!);
  for (const [name, value] of Object.entries(environment)) {
    const secret = /^\/run\/secrets\/([a-z0-9_]+)$/.exec(value)?.[1];
    if (name.endsWith('_FILE') && secret) environment[name] = join(REPO, 'secrets', `${secret}.example`);
  }
  return environment;
}

function hostsOf(config: Record<string, unknown>): string[] {
  const hosts: string[] = [];
  if (typeof config.DATABASE_URL === 'string') hosts.push(new URL(config.DATABASE_URL).hostname);
  if (typeof config.NATS_URL === 'string')
    hosts.push(...config.NATS_URL.split(',').map((url) => new URL(url.trim()).hostname));
  if (typeof config.IB_HOST === 'string') hosts.push(config.IB_HOST);
  return hosts;
}

function isLongRunning(name: string, document: ComposeDocument): boolean {
  return !ours.get(name)?.oneShot && document.services[name]?.restart !== 'no';
}

describe('docker-compose.yml', () => {
  it('has a SERVICES row for every service built from our Dockerfile', () => {
    const built = Object.entries(raw.services)
      .filter(([, service]) => typeof service.build === 'object' && service.build.context === '.')
      .map(([name]) => name)
      .sort();
    expect(built).toEqual(SERVICES.map((row) => row.service).sort());
  });

  describe.each(SCENARIOS)('$name', ({ env }) => {
    const document = readCompose(env);
    const active = activeServices(document, env);

    it('validates against the compose-spec JSON schema', () => {
      const schema = JSON.parse(
        readFileSync(join(REPO, 'node_modules', 'dclint', 'schemas', 'compose.schema.json'), 'utf8'),
      ) as Record<string, unknown>;
      delete schema.$schema; // ajv does not know that draft URL; the schema is draft-07
      const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
      const valid = validate(document);
      expect(validate.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
    });

    const profiles = (env.COMPOSE_PROFILES ?? '').split(',');
    const running = SERVICES.filter((row) => !row.profile || profiles.includes(row.profile)).map(
      (row) => row.service,
    );

    it('starts the services of this scenario', () => {
      expect(active).toEqual(expect.arrayContaining(running));
      for (const row of SERVICES)
        expect({ [row.service]: active.includes(row.service) }).toEqual({
          [row.service]: running.includes(row.service),
        });
      expect(active.includes('gateway')).toBe(env.COMPOSE_PROFILES === 'ibga');
    });

    it.each(running)('%s: its own config loader accepts its environment', (name) => {
      const row = ours.get(name)!;
      const environment = containerEnv(document, name);
      expect(() => row.load(environment)).not.toThrow();
      // The loader is the real one: a broken value is refused with the configuration error.
      expect(() => row.load({ ...environment, ...(row.refuses ?? { LOG_LEVEL: 'loud' }) })).toThrow(
        ConfigError,
      );
    });

    it.each(running)('%s: depends on every server it connects to, healthy or completed', (name) => {
      const row = ours.get(name)!;
      const config = row.load(containerEnv(document, name));
      const servers = [...hostsOf(config), ...(row.servers?.(config) ?? [])];
      const dependencies = dependsOn(document.services[name]!);
      for (const server of servers) {
        expect({ server, known: Object.keys(document.services).includes(server) }).toEqual({
          server,
          known: true,
        });
        expect({ server, dependency: dependencies[server]?.condition }).toEqual({
          server,
          dependency: 'service_healthy',
        });
        expect(active).toContain(server);
      }
      // Whoever uses the database waits for the migrations.
      if (servers.includes('postgres') && name !== 'migrate')
        expect(dependencies.migrate?.condition).toBe('service_completed_successfully');
    });

    it('depends only on services that exist here, or says the dependency is optional', () => {
      for (const name of active) {
        for (const [dependency, entry] of Object.entries(dependsOn(document.services[name]!))) {
          expect(Object.keys(document.services)).toContain(dependency);
          if (!active.includes(dependency))
            expect({ name, dependency, required: entry.required }).toEqual({
              name,
              dependency,
              required: false,
            });
          if (ours.get(dependency)?.oneShot)
            expect({ name, dependency, condition: entry.condition }).toEqual({
              name,
              dependency,
              condition: 'service_completed_successfully',
            });
        }
      }
    });
  });

  it('pins every image: a tag that is not latest, or a digest, also in the Dockerfile', () => {
    const document = readCompose(SCENARIOS[1]!.env);
    for (const [name, service] of Object.entries(document.services)) {
      expect({ name, image: service.image, pinned: isPinnedImage(service.image ?? '') }).toEqual({
        name,
        image: service.image,
        pinned: true,
      });
      if (typeof service.build === 'object' && /^https?:\/\//.test(service.build.context))
        expect(`${name}: ${service.build.context}`).toMatch(/#[0-9a-f]{40}$/);
    }
    const stageNames = new Set(dockerfile.stages.map((stage) => stage.name));
    for (const stage of dockerfile.stages)
      if (!stageNames.has(stage.from))
        expect({ stage: stage.name, pinned: isPinnedImage(stage.from) }).toEqual({
          stage: stage.name,
          pinned: true,
        });
  });

  it('gives every long-running service a healthcheck, restart policy, log rotation and memory limit', () => {
    const document = readCompose(SCENARIOS[1]!.env);
    for (const [name, service] of Object.entries(document.services)) {
      const memory = service.mem_limit ?? service.deploy?.resources?.limits?.memory;
      expect({ name, memory: memory !== undefined }).toEqual({ name, memory: true });
      const rotation = service.logging?.options ?? {};
      expect(`${name}: ${service.logging?.driver} ${rotation['max-size']} ${rotation['max-file']}`).toMatch(
        /^[a-z-]+: json-file \d+[kmg] \d+$/,
      );
      if (!isLongRunning(name, document)) continue;
      expect({ name, restart: service.restart }).toEqual({ name, restart: 'unless-stopped' });
      const healthcheck = service.healthcheck;
      expect({ name, healthcheck: Boolean(healthcheck?.test) && !healthcheck?.disable }).toEqual({
        name,
        healthcheck: true,
      });
    }
  });

  it('mounts each secret only where it is used; the IB credentials into the gateway alone', () => {
    const document = readCompose(SCENARIOS[1]!.env);
    const declared = Object.keys(document.secrets ?? {});
    for (const [name, service] of Object.entries(document.services)) {
      const allowed = ours.get(name)?.secrets ?? UPSTREAM_SECRETS[name] ?? [];
      for (const secret of secretsOf(service)) {
        expect({ name, secret, allowed: allowed.includes(secret) }).toEqual({ name, secret, allowed: true });
        expect(declared).toContain(secret);
        if (GATEWAY_SECRETS.includes(secret)) expect(name).toBe('gateway');
      }
      // Every /run/secrets path in its environment is a secret it mounts.
      for (const value of Object.values(environmentOf(service))) {
        const secret = /^\/run\/secrets\/([a-z0-9_]+)$/.exec(value)?.[1];
        if (secret)
          expect({ name, secret, mounted: secretsOf(service).includes(secret) }).toEqual({
            name,
            secret,
            mounted: true,
          });
      }
    }
    expect(secretsOf(document.services.gateway!).sort()).toEqual([...GATEWAY_SECRETS].sort());
  });

  it('documents every secret with a secrets/<name>.example, and keeps real secrets out of git', () => {
    const document = readComposeRaw();
    const examples = readdirSync(join(REPO, 'secrets'))
      .filter((file) => file.endsWith('.example'))
      .map((file) => file.replace(/\.example$/, ''))
      .sort();
    for (const [name, secret] of Object.entries(document.secrets ?? {})) {
      expect(secret.file).toBe(`./secrets/${name}`);
      expect(examples).toContain(name);
    }
    expect(examples).toEqual(Object.keys(document.secrets ?? {}).sort());
    const tracked = execFileSync('git', ['ls-files', 'secrets'], { cwd: REPO, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    expect(tracked.filter((file) => !file.endsWith('.example') && !file.endsWith('README.md'))).toEqual([]);
    // The database URL's password is the Postgres password (make secrets writes both).
    const password = readFileSync(join(REPO, 'secrets', 'postgres_password.example'), 'utf8').trim();
    const url = new URL(readFileSync(join(REPO, 'secrets', 'database_url.example'), 'utf8').trim());
    expect(decodeURIComponent(url.password)).toBe(password);
  });

  it.each(SCENARIOS)('gives the gateway the time zone execution reads its times in ($name)', ({ env }) => {
    const document = readCompose(env);
    const gateway = environmentOf(document.services.gateway!);
    // The entrypoint refuses to start IBGA unless the two name one zone (gateway-entrypoint.test.ts).
    expect(gateway.GATEWAY_TIME_ZONE).toBe(environmentOf(document.services.execution!).GATEWAY_TIME_ZONE);
    if (env.COMPOSE_PROFILES === 'ibga')
      expect(gateway.IB_TIMEZONE!.replace(/ /g, '_')).toBe(gateway.GATEWAY_TIME_ZONE);
  });

  it('tells the status screens (make status, the bot) where every service of ours answers', () => {
    const document = readCompose({});
    // `make status` runs the status CLI in the execution container: its loader takes that environment.
    const status = loadConfig('ibstack', stackEnv, containerEnv(document, 'execution'));
    expect(status.STATUS_SERVICES).not.toBeNull();
    const expected = SERVICES.filter((row) => !row.oneShot && !row.profile)
      .map((row) => ({
        name: row.service,
        url: `http://${row.service}:${environmentOf(document.services[row.service]!).HTTP_PORT}`,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    for (const reader of ['execution', 'notifier']) {
      const listed = serviceUrls.parse(environmentOf(document.services[reader]!).STATUS_SERVICES) ?? [];
      expect({ reader, listed: [...listed].sort((a, b) => a.name.localeCompare(b.name)) }).toEqual({
        reader,
        listed: expected,
      });
    }
  });

  it('runs, from the Makefile and scripts, only container entries that exist', () => {
    const commands = ['Makefile', 'scripts/deploy.sh', 'scripts/restore.sh']
      .map((file) => readFileSync(join(REPO, file), 'utf8'))
      .join('\n');
    const entries = [...commands.matchAll(/\b((?:packages|services)\/[a-z-]+\/src\/[\w/.-]+\.js)\b/g)].map(
      (match) => match[1]!,
    );
    // make status, make totp, make backup / backup-list, make user, the deploy's health gate.
    expect(entries).toEqual(
      expect.arrayContaining([
        'packages/stack/src/cli/ibstack.js',
        'packages/stack/src/cli/totp.js',
        'services/backup/src/cli.js',
        'services/dashboard-api/src/cli/user.js',
      ]),
    );
    for (const entry of entries)
      expect({ entry, exists: existsSync(join(REPO, entry.replace(/\.js$/, '.ts'))) }).toEqual({
        entry,
        exists: true,
      });
  });

  it('sends the proxy’s routes to compose services on the ports they listen on', () => {
    // infra/proxy/ibstack/upstreams.conf: `map "" $dashboard_upstream { default dashboard-api:8080; }`.
    const upstreams = [
      ...readFileSync(join(REPO, 'infra', 'proxy', 'ibstack', 'upstreams.conf'), 'utf8').matchAll(
        /map "" \$(\w+)_upstream \{\s*default ([a-z0-9-]+):(\d+);/g,
      ),
    ].map(([, route, host, port]) => ({ route: route!, host: host!, port: port! }));
    expect(upstreams.map((upstream) => upstream.route).sort()).toEqual(['dashboard', 'grafana']);
    const document = readCompose({});
    const active = activeServices(document, {});
    for (const { route, host, port } of upstreams) {
      const service = document.services[host];
      // Always running (no profile), and listening there: its HTTP_PORT, or a port it exposes.
      expect({ route, host, active: active.includes(host) }).toEqual({ route, host, active: true });
      const listens = [
        environmentOf(service!).HTTP_PORT,
        ...((service as { expose?: Array<string | number> }).expose ?? []).map(String),
      ];
      expect({ route, host, port, listens: listens.includes(port) }).toEqual({
        route,
        host,
        port,
        listens: true,
      });
    }
  });

  it('lets the dashboard believe the proxy container’s X-Forwarded-For, and no one outside the network', () => {
    const trusted = environmentOf(readCompose({}).services['dashboard-api']!).TRUST_PROXY!.split(',');
    // Compose networks are private ranges (172.16.0.0/12, 192.168.0.0/16, 10.0.0.0/8): `uniquelocal`.
    expect(trusted.sort()).toEqual(['loopback', 'uniquelocal']);
  });

  it('publishes no port except the proxy, or bound to 127.0.0.1', () => {
    const document = readCompose(SCENARIOS[1]!.env);
    for (const [name, service] of Object.entries(document.services)) {
      if (PUBLISHING_SERVICES.includes(name)) continue;
      for (const port of service.ports ?? []) {
        const hostIp =
          typeof port === 'string' ? (/^(\d+\.\d+\.\d+\.\d+):/.exec(port)?.[1] ?? '') : (port.host_ip ?? '');
        expect({ name, port, hostIp }).toEqual({ name, port, hostIp: '127.0.0.1' });
      }
    }
  });

  it("routes the proxy's upstreams to services of the stack, on a port each exposes and listens on", () => {
    const document = readCompose(SCENARIOS[0]!.env);
    const upstreams = [
      ...readFileSync(join(REPO, 'infra', 'proxy', 'ibstack', 'upstreams.conf'), 'utf8').matchAll(
        /map\s+""\s+\$(\w+)\s*\{\s*default\s+([a-z0-9-]+):(\d+);/g,
      ),
    ].map(([, variable, host, port]) => ({ variable: variable!, host: host!, port: port! }));
    expect(upstreams.map((upstream) => upstream.variable)).toContain('dashboard_upstream');
    for (const { variable, host, port } of upstreams) {
      // Grafana comes with the monitoring services; until then the proxy answers /grafana/ with 502.
      if (variable !== 'dashboard_upstream' && !document.services[host]) continue;
      const service = document.services[host];
      expect({ variable, host, exists: service !== undefined }).toEqual({ variable, host, exists: true });
      const exposed = ((service as { expose?: Array<string | number> }).expose ?? []).map(String);
      expect({ variable, host, port, exposed: exposed.includes(port) }).toEqual({
        variable,
        host,
        port,
        exposed: true,
      });
      const row = ours.get(host);
      if (row)
        expect({ variable, listens: String(row.load(containerEnv(document, host)).HTTP_PORT) }).toEqual({
          variable,
          listens: port,
        });
    }
  });

  it('builds every service of ours from a Dockerfile target whose CMD is an entry that exists', () => {
    const document = readComposeRaw();
    for (const row of SERVICES) {
      const service = document.services[row.service]!;
      const target = buildTarget(service);
      const stage = dockerfile.stages.find((candidate) => candidate.name === target);
      expect({ service: row.service, target, stage: stage?.name }).toEqual({
        service: row.service,
        target: row.service,
        stage: row.service,
      });
      const command = (service.command as string[] | undefined) ?? stage!.cmd!;
      // Exec form, node first: SIGTERM goes to node itself (tini, `init: true`, forwards it), no shell.
      expect(command[0]).toBe('node');
      const entry = command[1]!;
      expect(entry).toMatch(/^(packages|services)\/[a-z-]+\/src\/.+\.js$/);
      expect({ entry, exists: existsSync(join(REPO, entry.replace(/\.js$/, '.ts'))) }).toEqual({
        entry,
        exists: true,
      });
      expect((service as { init?: boolean }).init).toBe(true);
      if (!row.oneShot) expect(stage!.healthcheck).toBe(true);
    }
  });

  it('passes docker-compose 1.29 `config -q` on the keys it understands', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ibstack-compose-'));
    try {
      // v1 predates the top-level `name` and `depends_on.required`; everything else it checks as written.
      const document = readComposeRaw();
      delete document.name;
      for (const service of Object.values(document.services))
        for (const entry of Object.values(dependsOn(service))) delete entry.required;
      // JSON is YAML too, and leaves no room for YAML 1.1's `no` turning into false.
      writeFileSync(join(dir, 'docker-compose.yml'), JSON.stringify(document, null, 2));
      mkdirSync(join(dir, 'secrets'));
      for (const secret of Object.keys(document.secrets ?? {}))
        writeFileSync(join(dir, 'secrets', secret), 'x', { flag: 'w' });
      // v1 checks that a local build context exists (the proxy's is infra/proxy).
      for (const service of Object.values(document.services))
        if (typeof service.build === 'object' && !/^[a-z]+:\/\//.test(service.build.context))
          mkdirSync(join(dir, service.build.context), { recursive: true });
      for (const scenario of SCENARIOS) {
        const result = execFileSync(
          'docker-compose',
          ['--project-directory', dir, '-f', join(dir, 'docker-compose.yml'), 'config', '-q'],
          {
            env: { PATH: process.env.PATH, ...scenario.env },
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        expect(result).toBe('');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
