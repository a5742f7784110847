/**
 * `npm run bench -- images`: what production runs, compiled JavaScript (the image's tree, built here the
 * way the Dockerfile builds it) or TypeScript through tsx. Start time is spawn → the first 200 from
 * /healthz; RSS is the process and its children (tsx's esbuild service, if any) once started and settled.
 * Baseline: bare node answering HTTP, measured in the same run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort, testEnvironment } from '@ibstack/test-kit';

import { buildImageTree } from '../../docker/runtime-tree';
import { type Figure, type Suite } from '../lib/report';
import { nowMs, percentile } from '../lib/stats';

const REPO = join(__dirname, '..', '..');
const SETTLE_MS = 2_000;

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', timeout: 500 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Resident memory of a process and all its descendants, from /proc, in MB. */
function treeRssMb(pid: number): number {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid];
  for (let index = 0; index < tree.length; index += 1)
    for (const [child, parent] of parents) if (parent === tree[index]) tree.push(child);
  let kb = 0;
  for (const member of tree) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${member}/status`, 'utf8'));
      kb += Number(match?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return kb / 1024;
}

interface Variant {
  name: string;
  cwd: string;
  /** Arguments and environment for a run whose HTTP port is `port`. */
  prepare(port: number): Promise<{ args: string[]; env: NodeJS.ProcessEnv }>;
}

async function measure(variant: Variant): Promise<{ startMs: number; rssMb: number }> {
  const port = await freePort();
  const { args, env } = await variant.prepare(port);
  const started = nowMs();
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: variant.cwd,
    env: { PATH: process.env.PATH, ...env },
    stdio: 'ignore',
  });
  try {
    const deadline = Date.now() + 60_000;
    while (!(await healthy(port))) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`${variant.name} never answered /healthz`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const startMs = nowMs() - started;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    return { startMs, rssMb: treeRssMb(child.pid!) };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

export const imagesSuite: Suite = {
  name: 'images',
  description: 'production runtime: compiled JavaScript (the image tree) vs tsx; start to /healthz and RSS',
  async run({ scale, log }) {
    const rounds = Math.max(3, Math.round(7 * scale));
    const dir = mkdtempSync(join(tmpdir(), 'ibstack-bench-images-'));
    const app = join(dir, 'app');
    try {
      log('building the image tree (tsc, layout, npm ci --omit=dev)');
      buildImageTree(REPO, app);
      const { natsUrl } = testEnvironment();
      const services = [
        {
          service: 'gateway-sim',
          entry: 'services/gateway-sim/src/main',
          env: async (port: number) => ({
            HTTP_PORT: String(port),
            GATEWAY_SIM_PORT: String(await freePort()),
          }),
        },
        {
          service: 'gateway-supervisor',
          entry: 'services/gateway-supervisor/src/main',
          // NATS is real; the gateway is absent (the supervisor answers /healthz regardless).
          env: async (port: number) => ({
            HTTP_PORT: String(port),
            NATS_URL: natsUrl,
            BUS_NAMESPACE: `bench${process.pid}`,
            IB_PORT: String(await freePort()),
          }),
        },
      ];
      const bare: Variant = {
        name: 'bare node http',
        cwd: dir,
        prepare: async (port) => {
          await Promise.resolve();
          return {
            args: ['-e', `require('http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`],
            env: {},
          };
        },
      };
      const variants: Array<{ key: string; variant: Variant }> = [{ key: 'bare', variant: bare }];
      for (const { service, entry, env } of services) {
        const environment = async (port: number) => ({
          NODE_ENV: 'production',
          LOG_LEVEL: 'warn',
          ...(await env(port)),
        });
        variants.push(
          {
            key: `${service} compiled`,
            variant: {
              name: `${service} compiled`,
              cwd: app,
              prepare: async (port) => ({ args: [`${entry}.js`], env: await environment(port) }),
            },
          },
          {
            key: `${service} tsx`,
            variant: {
              name: `${service} tsx`,
              cwd: REPO,
              prepare: async (port) => ({
                args: ['--import', 'tsx', `${entry}.ts`],
                env: await environment(port),
              }),
            },
          },
        );
      }
      const figures: Figure[] = [];
      const samples = new Map<string, { start: number[]; rss: number[] }>();
      for (let round = 0; round < rounds; round += 1) {
        log(`round ${round + 1}/${rounds}`);
        // Interleaved, so a slow moment of the machine hits every variant alike.
        for (const { key, variant } of variants) {
          const result = await measure(variant);
          const entry = samples.get(key) ?? { start: [], rss: [] };
          entry.start.push(result.startMs);
          entry.rss.push(result.rssMb);
          samples.set(key, entry);
        }
      }
      const median = (values: number[]) => percentile(values, 50);
      const base = samples.get('bare')!;
      for (const { service } of services) {
        for (const kind of ['compiled', 'tsx'] as const) {
          const entry = samples.get(`${service} ${kind}`)!;
          figures.push(
            {
              name: `${service} start to /healthz, ${kind === 'compiled' ? 'compiled JS' : 'tsx'}`,
              value: median(entry.start),
              unit: 'ms',
              baselineName: 'bare node http',
              baseline: median(base.start),
              better: 'lower',
            },
            {
              name: `${service} RSS started, ${kind === 'compiled' ? 'compiled JS' : 'tsx'}`,
              value: median(entry.rss),
              unit: 'MB',
              baselineName: 'bare node http',
              baseline: median(base.rss),
              better: 'lower',
            },
          );
        }
      }
      return figures;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
