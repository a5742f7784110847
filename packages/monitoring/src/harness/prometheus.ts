import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

import { freePort } from '@ibstack/test-kit';
import { parse, stringify } from 'yaml';

import { durationSeconds } from '../alertmanager';
import { paths } from '../paths';
import { ruleFiles } from '../rules';
import { type Daemon, startDaemon } from './daemon';

export interface ScrapeTarget {
  /** The production job name (prometheus/prometheus.yml), so rules and dashboards see the same labels. */
  job: string;
  /** host:port */
  target: string;
}

export interface LocalPrometheusOptions {
  targets: readonly ScrapeTarget[];
  /** host:port of Alertmanager, if alerts should be sent. */
  alertmanager?: string;
  /** @default the production file's */
  scrapeInterval?: string;
  /** @default the production file's */
  evaluationInterval?: string;
  /** Every rule's `for` and `keep_firing_for` multiplied by this. @default 1 (the production rules as they are) */
  forScale?: number;
  /** How often a firing alert is sent again to Alertmanager. @default Prometheus's (1m) */
  resendDelay?: string;
  /** One more rule file (YAML) beside the production ones, e.g. a benchmark's baseline rule. */
  extraRules?: string;
}

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}
export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
}

export interface LocalPrometheus {
  readonly url: string;
  query(expr: string): Promise<PromSample[]>;
  alerts(): Promise<PromAlert[]>;
  /** Stops it and deletes its data. */
  stop(): Promise<void>;
}

interface ProductionConfig {
  global: { scrape_interval: string; evaluation_interval: string };
  scrape_configs: Array<{
    job_name: string;
    static_configs?: Array<{ labels?: Record<string, string> }>;
    relabel_configs?: Array<{ target_label?: string; replacement?: string }>;
  }>;
}

/** The `role` label a production job gives its targets. */
function productionRoles(config: ProductionConfig): Map<string, string> {
  const roles = new Map<string, string>();
  for (const job of config.scrape_configs) {
    const role =
      job.static_configs?.find((group) => group.labels?.role)?.labels?.role ??
      job.relabel_configs?.find((relabel) => relabel.target_label === 'role')?.replacement;
    if (role) roles.set(job.job_name, role);
  }
  return roles;
}

function formatSeconds(seconds: number): string {
  return Number.isInteger(seconds) ? `${seconds}s` : `${Math.max(1, Math.round(seconds * 1000))}ms`;
}

/** The production rule files, with every `for` and `keep_firing_for` scaled (expressions untouched). */
function writeRules(dir: string, forScale: number): void {
  for (const file of ruleFiles()) {
    const text = readFileSync(file, 'utf8');
    if (forScale === 1) {
      writeFileSync(join(dir, basename(file)), text);
      continue;
    }
    const parsed = parse(text) as {
      groups: Array<{ rules: Array<{ for?: string; keep_firing_for?: string }> }>;
    };
    for (const group of parsed.groups)
      for (const rule of group.rules) {
        if (rule.for) rule.for = formatSeconds(durationSeconds(rule.for) * forScale);
        if (rule.keep_firing_for)
          rule.keep_firing_for = formatSeconds(durationSeconds(rule.keep_firing_for) * forScale);
      }
    writeFileSync(join(dir, basename(file)), stringify(parsed));
  }
}

/**
 * Debian's Prometheus 2.42 on a free loopback port, scraping local processes under their production job
 * names and roles, with the production rules (their `for` optionally scaled down for a test).
 */
export async function startPrometheus(options: LocalPrometheusOptions): Promise<LocalPrometheus> {
  const production = parse(readFileSync(paths.prometheusConfig, 'utf8')) as ProductionConfig;
  const roles = productionRoles(production);
  const dir = mkdtempSync(join(tmpdir(), 'ibstack-prometheus-'));
  const rulesDir = join(dir, 'rules');
  mkdirSync(rulesDir);
  writeRules(rulesDir, options.forScale ?? 1);
  if (options.extraRules) writeFileSync(join(rulesDir, 'zz-extra.yml'), options.extraRules);
  const jobs = new Map<string, string[]>();
  for (const { job, target } of options.targets) jobs.set(job, [...(jobs.get(job) ?? []), target]);
  const scrapeInterval = options.scrapeInterval ?? production.global.scrape_interval;
  const config = {
    global: {
      scrape_interval: scrapeInterval,
      scrape_timeout: formatSeconds(Math.min(durationSeconds(scrapeInterval), 5)),
      evaluation_interval: options.evaluationInterval ?? production.global.evaluation_interval,
    },
    rule_files: [join(rulesDir, '*.yml')],
    ...(options.alertmanager
      ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [options.alertmanager] }] }] } }
      : {}),
    scrape_configs: [...jobs].map(([job, targets]) => {
      const role = roles.get(job);
      if (!role) throw new Error(`job ${job} is not in prometheus/prometheus.yml`);
      return { job_name: job, static_configs: [{ targets, labels: { role } }] };
    }),
  };
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let daemon: Daemon;
  try {
    daemon = await startDaemon({
      name: 'prometheus',
      command: 'prometheus',
      args: [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        ...(options.resendDelay ? [`--rules.alert.resend-delay=${options.resendDelay}`] : []),
      ],
      readyUrl: `${url}/-/ready`,
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error}`);
    return body.data;
  };
  return {
    url,
    query: async (expr) => {
      const data = await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      return data.result.map((sample) => ({ metric: sample.metric, value: Number(sample.value[1]) }));
    },
    alerts: async () => (await api<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts,
    stop: async () => {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
