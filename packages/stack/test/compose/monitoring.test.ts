/**
 * The monitoring services in docker-compose.yml (issue 13), proven against the files they read: each
 * monitoring service's image, UI port, data volume and mounts (MONITORING), and the wiring between them
 * and the rest of the stack: every service of ours and every exporter is a Prometheus scrape target at a
 * port its container exposes, Prometheus finds Alertmanager, Grafana's datasource is Prometheus, and every
 * file a container is told to read (configuration, entrypoint, dashboards, secrets) is mounted there.
 *
 * The generic rules (pinned image, healthcheck, restart, log rotation, memory limit, secrets only where
 * listed, no port except on 127.0.0.1) are compose.test.ts's and apply to these services too.
 *
 * HOW TO ADD A MONITORING SERVICE: a row in MONITORING; if Prometheus scrapes it, a job in
 * prometheus/prometheus.yml named after the row's `job`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

import { parse } from 'yaml';

import {
  activeServices,
  type ComposeDocument,
  type ComposeService,
  environmentOf,
  readCompose,
  REPO,
  secretsOf,
} from './compose-file';

interface MonitoringService {
  service: string;
  /** The lowest upstream version whose features our configuration uses. */
  minVersion?: string;
  /** The container port of its web UI, published on the host's loopback (and nowhere else). */
  ui?: number;
  /** Where it keeps its data: a named volume is mounted there, so `down` and `up` keep it. */
  data?: string;
  /** The Prometheus job that scrapes it, and the port. */
  scrape?: { job: string; port: number };
  /** Runs only under this compose profile. */
  profile?: string;
}

const MONITORING: readonly MonitoringService[] = [
  // 2.42 is what the rule tests run (Debian's promtool); the image must not be older.
  {
    service: 'prometheus',
    minVersion: '2.42.0',
    ui: 9090,
    data: '/prometheus',
    scrape: { job: 'prometheus', port: 9090 },
  },
  // telegram_configs.bot_token_file arrived in 0.26.
  {
    service: 'alertmanager',
    minVersion: '0.26.0',
    ui: 9093,
    data: '/alertmanager',
    scrape: { job: 'alertmanager', port: 9093 },
    profile: 'telegram',
  },
  // The dashboards are built for Grafana 11 (schemaVersion 41, @grafana/grafana-foundation-sdk 11.6).
  { service: 'grafana', minVersion: '11.6.0', ui: 3000, data: '/var/lib/grafana' },
  { service: 'node-exporter', scrape: { job: 'node-exporter', port: 9100 } },
  { service: 'postgres-exporter', scrape: { job: 'postgres-exporter', port: 9187 } },
  // Alpine-based (wget for the healthcheck) from 0.17 on; 0.16 and older are FROM scratch.
  { service: 'nats-exporter', minVersion: '0.17.0', scrape: { job: 'nats-exporter', port: 7777 } },
];

/**
 * Scrape jobs of services that docker-compose.yml does not have yet (none now: issue 14 added
 * dashboard-api, issue 16 the failover agent). The test below fails once one of them joins compose, so
 * the entry goes.
 */
const NOT_YET_IN_COMPOSE: readonly string[] = [];

interface ScrapeJob {
  job_name: string;
  static_configs?: Array<{ targets: string[] }>;
  dns_sd_configs?: Array<{ names: string[]; type?: string; port: number }>;
  relabel_configs?: Array<{ target_label?: string; replacement?: string }>;
}
interface FileSdJob {
  job_name: string;
  file_sd_configs?: Array<{ files: string[] }>;
}
interface PrometheusConfig {
  rule_files: string[];
  alerting: {
    alertmanagers: Array<{
      static_configs?: Array<{ targets: string[] }>;
      dns_sd_configs?: Array<{ names: string[]; port: number }>;
    }>;
  };
  scrape_configs: ScrapeJob[];
}

const readYaml = <T>(...path: string[]) => parse(readFileSync(join(REPO, ...path), 'utf8')) as T;
const prometheus = readYaml<PrometheusConfig>('prometheus', 'prometheus.yml');
/** Every profile on: all services, as the checks below need them. */
const ALL_PROFILES = { COMPOSE_PROFILES: 'ibga,telegram,letsencrypt' };
const compose = readCompose(ALL_PROFILES);
const service = (name: string): ComposeService => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};

function versionOf(image: string): number[] {
  const tag = /:v?(\d+)\.(\d+)\.(\d+)(?:@|$)/.exec(image);
  if (!tag) throw new Error(`cannot read a version from the image ${image}`);
  return tag.slice(1, 4).map(Number);
}
function atLeast(version: number[], minimum: string): boolean {
  const min = minimum.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (version[i] !== min[i]) return version[i]! > min[i]!;
  return true;
}

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}
function mountsOf(entry: ComposeService): Mount[] {
  return (entry.volumes ?? []).map((volume) => {
    if (typeof volume !== 'string')
      return { source: volume.source ?? '', target: volume.target ?? '', readOnly: false };
    const [source = '', target = '', mode = ''] = volume.split(':');
    return { source, target, readOnly: mode.split(',').includes('ro') };
  });
}

/** The repository file a container path is bind-mounted from, or undefined. */
function repositoryFileAt(entry: ComposeService, containerPath: string): string | undefined {
  for (const mount of mountsOf(entry)) {
    if (!mount.source.startsWith('./')) continue;
    const relative = posix.relative(mount.target, containerPath);
    if (relative.startsWith('..') || posix.isAbsolute(relative)) continue;
    return join(REPO, mount.source, relative);
  }
  return undefined;
}

function exposedPorts(entry: ComposeService): number[] {
  return ((entry as { expose?: Array<string | number> }).expose ?? []).map(Number);
}

/** host:port of every target Prometheus scrapes under a job, static or found by DNS. */
function targetsOf(job: ScrapeJob): Array<{ host: string; port: number; byDns: boolean }> {
  const targets: Array<{ host: string; port: number; byDns: boolean }> = [];
  // A blackbox probe's target is a URL; the scrape goes to the exporter (`__address__`).
  const address = job.relabel_configs?.find((relabel) => relabel.target_label === '__address__');
  if (address?.replacement) {
    const [host = '', port = ''] = address.replacement.split(':');
    return [{ host, port: Number(port), byDns: false }];
  }
  for (const group of job.static_configs ?? [])
    for (const target of group.targets) {
      const [host = '', port = ''] = target.split(':');
      targets.push({ host, port: Number(port), byDns: false });
    }
  for (const dns of job.dns_sd_configs ?? [])
    for (const name of dns.names) targets.push({ host: name, port: dns.port, byDns: true });
  return targets;
}

/**
 * Whether Prometheus must find a host by DNS: it is not in the default stack (a profile's), or it gives
 * way to another (gateway-sim to the real gateway under the ibga profile).
 */
function optional(host: string): boolean {
  return host === 'gateway-sim' || !activeServices(readCompose({}), {}).includes(host);
}

/** Long-running services built from our Dockerfile, with the HTTP port they serve /metrics on. */
function ourServices(document: ComposeDocument): Array<{ name: string; port: number }> {
  return Object.entries(document.services)
    .filter(([, entry]) => typeof entry.build === 'object' && entry.build.context === '.')
    .filter(([, entry]) => entry.restart !== 'no')
    .map(([name, entry]) => ({ name, port: Number(environmentOf(entry).HTTP_PORT) }));
}

describe('monitoring in docker-compose.yml', () => {
  describe.each(MONITORING)('$service', (row) => {
    const entry = service(row.service);

    it('pins an upstream image new enough for our configuration', () => {
      expect(entry.build).toBeUndefined();
      if (row.minVersion)
        expect({ image: entry.image, new_enough: atLeast(versionOf(entry.image!), row.minVersion) }).toEqual({
          image: entry.image,
          new_enough: true,
        });
    });

    it('publishes its UI on the host loopback only, or nothing', () => {
      const published = (entry.ports ?? []).map((port) =>
        typeof port === 'string'
          ? port
          : `${port.host_ip ?? ''}:${port.published ?? ''}:${port.target ?? ''}`,
      );
      if (row.ui === undefined) expect(published).toEqual([]);
      else {
        expect(published).toHaveLength(1);
        expect(published[0]).toMatch(new RegExp(`^127\\.0\\.0\\.1:\\d+:${row.ui}$`));
      }
    });

    it('keeps its data in a named volume, and its configuration read-only from the repository', () => {
      const mounts = mountsOf(entry);
      if (row.data) {
        const data = mounts.find((mount) => mount.target === row.data);
        expect({ data: row.data, volume: data?.source }).toEqual({
          data: row.data,
          volume: expect.stringMatching(/^[a-z][a-z0-9-]*$/) as unknown,
        });
        expect(Object.keys(compose.volumes ?? {})).toContain(data!.source);
      }
      for (const mount of mounts.filter((candidate) => candidate.source.startsWith('./'))) {
        expect({ mount: mount.source, exists: existsSync(join(REPO, mount.source)) }).toEqual({
          mount: mount.source,
          exists: true,
        });
        expect({ mount: mount.source, readOnly: mount.readOnly }).toEqual({
          mount: mount.source,
          readOnly: true,
        });
      }
    });

    it('runs under the profile it needs, or always', () => {
      expect(entry.profiles).toEqual(row.profile ? [row.profile] : undefined);
    });

    if (row.scrape) {
      const { job: jobName, port } = row.scrape;
      it(`is scraped by Prometheus as job ${jobName} on port ${port}, found by DNS when it runs under a profile`, () => {
        const job = prometheus.scrape_configs.find((candidate) => candidate.job_name === jobName);
        expect(job).toBeDefined();
        const targets = targetsOf(job!);
        const host = row.service === 'prometheus' ? 'localhost' : row.service;
        expect(targets).toEqual([{ host, port, byDns: Boolean(row.profile) }]);
        if (row.service !== 'prometheus') expect(exposedPorts(entry)).toContain(port);
      });
    }
  });

  it('has a row for every upstream service it runs for monitoring', () => {
    const monitoring = Object.entries(compose.services)
      .filter(([, entry]) =>
        /^(prom\/|grafana\/|quay\.io\/prometheuscommunity\/|natsio\/prometheus)/.test(entry.image ?? ''),
      )
      .map(([name]) => name)
      .filter((name) => name !== 'blackbox-exporter'); // the proxy's probe (issue 17), checked with the proxy
    expect(monitoring.sort()).toEqual(MONITORING.map((row) => row.service).sort());
  });

  it('scrapes every long-running service of ours at the HTTP port it listens on, under its own name', () => {
    const services = ourServices(compose);
    expect(services.length).toBeGreaterThan(5);
    for (const { name, port } of services) {
      const job = prometheus.scrape_configs.find((candidate) => candidate.job_name === name);
      expect({ name, scraped: job !== undefined }).toEqual({ name, scraped: true });
      const byDns = optional(name);
      expect({ name, targets: targetsOf(job!) }).toEqual({ name, targets: [{ host: name, port, byDns }] });
      expect({ name, exposed: exposedPorts(service(name)) }).toEqual({
        name,
        exposed: expect.arrayContaining([port]) as unknown,
      });
    }
  });

  it('scrapes nothing that is not a compose service at a port it exposes', () => {
    for (const name of NOT_YET_IN_COMPOSE)
      expect({ name, inCompose: name in compose.services }).toEqual({ name, inCompose: false });
    for (const job of prometheus.scrape_configs)
      for (const { host, port } of targetsOf(job)) {
        // Prometheus itself, and services compose does not run yet.
        if (host === 'localhost' || NOT_YET_IN_COMPOSE.includes(host)) continue;
        expect({ job: job.job_name, host, service: host in compose.services }).toEqual({
          job: job.job_name,
          host,
          service: true,
        });
        expect({ job: job.job_name, host, exposed: exposedPorts(service(host)) }).toEqual({
          job: job.job_name,
          host,
          exposed: expect.arrayContaining([port]) as unknown,
        });
      }
  });

  it('finds a service that runs only under a profile by DNS, so it is no target (and no ServiceDown) when off', () => {
    for (const job of prometheus.scrape_configs)
      for (const { host, byDns } of targetsOf(job)) {
        if (host === 'localhost' || NOT_YET_IN_COMPOSE.includes(host)) continue;
        expect({ job: job.job_name, byDns }).toEqual({ job: job.job_name, byDns: optional(host) });
      }
  });

  it('sends alerts to the compose Alertmanager, found by DNS (it runs with the telegram profile)', () => {
    const alerting = prometheus.alerting.alertmanagers;
    expect(alerting).toHaveLength(1);
    expect(alerting[0]!.static_configs).toBeUndefined();
    expect(alerting[0]!.dns_sd_configs).toEqual([
      expect.objectContaining({ names: ['alertmanager'], port: 9093 }),
    ]);
    expect(exposedPorts(service('alertmanager'))).toContain(9093);
  });

  it('mounts the configuration, rules and data Prometheus is told to read', () => {
    const entry = service('prometheus');
    const command = entry.command as string[];
    const flag = (name: string) => command.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
    const config = flag('config.file')!;
    expect(repositoryFileAt(entry, config)).toBe(join(REPO, 'prometheus', 'prometheus.yml'));
    for (const pattern of prometheus.rule_files) {
      const rulesDir = posix.dirname(posix.join(posix.dirname(config), pattern));
      expect(repositoryFileAt(entry, rulesDir)).toBe(join(REPO, 'prometheus', 'rules'));
    }
    // Target files (the failover peer): their directory is mounted, so a file written there is read.
    for (const job of prometheus.scrape_configs as FileSdJob[])
      for (const pattern of job.file_sd_configs?.flatMap((sd) => sd.files) ?? []) {
        const dir = repositoryFileAt(entry, posix.dirname(posix.join(posix.dirname(config), pattern)));
        expect({ job: job.job_name, dir, exists: dir !== undefined && existsSync(dir) }).toEqual({
          job: job.job_name,
          dir,
          exists: true,
        });
      }
    expect(flag('storage.tsdb.path')).toBe('/prometheus');
  });

  it('starts Alertmanager through our entrypoint, on our configuration, with the token file it names', () => {
    const entry = service('alertmanager');
    const entrypoint = entry.entrypoint as string[];
    expect(entrypoint[0]).toBe('/bin/sh');
    expect(repositoryFileAt(entry, entrypoint[1]!)).toBe(join(REPO, 'alertmanager', 'entrypoint.sh'));
    // The entrypoint's default configuration path.
    expect(repositoryFileAt(entry, '/etc/alertmanager/alertmanager.yml')).toBe(
      join(REPO, 'alertmanager', 'alertmanager.yml'),
    );
    const config = readYaml<{
      templates: string[];
      receivers: Array<{ telegram_configs?: Array<{ bot_token_file?: string }> }>;
    }>('alertmanager', 'alertmanager.yml');
    for (const template of config.templates)
      expect(repositoryFileAt(entry, posix.dirname(template))).toBe(join(REPO, 'alertmanager', 'templates'));
    const tokenFiles = config.receivers.flatMap((receiver) =>
      (receiver.telegram_configs ?? []).map((telegram) => telegram.bot_token_file),
    );
    expect(tokenFiles.length).toBeGreaterThan(0);
    for (const file of tokenFiles) {
      const secret = /^\/run\/secrets\/([a-z0-9_]+)$/.exec(file ?? '')?.[1];
      expect({ file, mounted: secret !== undefined && secretsOf(entry).includes(secret) }).toEqual({
        file,
        mounted: true,
      });
    }
    expect(environmentOf(entry).TELEGRAM_CHAT_ID).toBeDefined();
  });

  it('gives Grafana its provisioning, the dashboards where the provider looks, Prometheus as datasource and the admin password from a secret', () => {
    const entry = service('grafana');
    for (const kind of ['datasources', 'dashboards'])
      expect(repositoryFileAt(entry, `/etc/grafana/provisioning/${kind}`)).toBe(
        join(REPO, 'grafana', 'provisioning', kind),
      );
    const provider = readYaml<{ providers: Array<{ options: { path: string } }> }>(
      'grafana',
      'provisioning',
      'dashboards',
      'ibstack.yml',
    );
    for (const { options } of provider.providers)
      expect(repositoryFileAt(entry, options.path)).toBe(join(REPO, 'grafana', 'dashboards'));
    const environment = environmentOf(entry);
    expect(repositoryFileAt(entry, environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!)).toMatch(
      /grafana\/dashboards\/[a-z-]+\.json$/,
    );
    expect(existsSync(repositoryFileAt(entry, environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!)!)).toBe(
      true,
    );
    const datasources = readYaml<{ datasources: Array<{ type: string; url: string }> }>(
      'grafana',
      'provisioning',
      'datasources',
      'prometheus.yml',
    );
    for (const datasource of datasources.datasources.filter((candidate) => candidate.type === 'prometheus')) {
      const url = new URL(datasource.url);
      expect(url.hostname).toBe('prometheus');
      expect(exposedPorts(service('prometheus'))).toContain(Number(url.port));
    }
    // The password from a file only (Grafana's image reads GF_*__FILE); never a value in the environment.
    expect(environment.GF_SECURITY_ADMIN_PASSWORD).toBeUndefined();
    expect(environment.GF_SECURITY_ADMIN_PASSWORD__FILE).toBe('/run/secrets/grafana_admin_password');
    expect(secretsOf(entry)).toEqual(['grafana_admin_password']);
    // Served under the path the reverse proxy forwards (infra/proxy: location /grafana/).
    expect(environment.GF_SERVER_SERVE_FROM_SUB_PATH).toBe('true');
    expect(new URL(environment.GF_SERVER_ROOT_URL!).pathname).toBe('/grafana/');
    expect(readFileSync(join(REPO, 'infra', 'proxy', 'ibstack', 'site.conf'), 'utf8')).toContain(
      'location /grafana/',
    );
  });

  it('points each exporter at the server it watches, and waits for it to be healthy', () => {
    const nats = service('nats-exporter');
    const natsUrl = new URL((nats.command as string[]).at(-1)!);
    expect(natsUrl.hostname).toBe('nats');
    expect(exposedPorts(service('nats'))).toContain(Number(natsUrl.port));
    expect((service('nats').command as string[]).join(' ')).toContain(`--http_port=${natsUrl.port}`);
    const postgres = service('postgres-exporter');
    const environment = environmentOf(postgres);
    expect(environment.DATA_SOURCE_URI).toMatch(/^postgres:5432\/ibstack\b/);
    expect(environment.DATA_SOURCE_USER).toBe(environmentOf(service('postgres')).POSTGRES_USER);
    expect(environment.DATA_SOURCE_PASS_FILE).toBe('/run/secrets/postgres_password');
    expect(environment.DATA_SOURCE_NAME).toBeUndefined();
    for (const [exporter, server] of [
      ['nats-exporter', 'nats'],
      ['postgres-exporter', 'postgres'],
    ] as const)
      expect((service(exporter).depends_on as Record<string, { condition: string }>)[server]?.condition).toBe(
        'service_healthy',
      );
  });
});
