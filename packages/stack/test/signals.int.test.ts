/**
 * The runner never leaves services trading on their own: a SIGTERM to `npm start` itself (systemd,
 * `timeout`, `kill <pid>`) and a SIGTERM while the stack is still starting both stop every service.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';

import { Bus } from '@ibstack/bus';
import { createLogger, createRegistry } from '@ibstack/observability';
import {
  dropDatabase,
  eventually,
  freePort,
  freePortRange,
  spawnTs,
  testEnvironment,
  uniqueSuffix,
} from '@ibstack/test-kit';

const ROOT = join(__dirname, '..', '..', '..');
const START = join(ROOT, 'packages', 'stack', 'src', 'cli', 'start.ts');

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('stopping the stack by signal', () => {
  const databaseName = `ibstack_test_${uniqueSuffix()}`;
  const namespace = `t${uniqueSuffix()}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'ibstack-signals-'));
  let env: Record<string, string>;
  let ports: number[];

  beforeAll(async () => {
    const base = new URL(testEnvironment().databaseUrl);
    base.pathname = `/${databaseName}`;
    const httpBase = await freePortRange(7);
    const ibPort = await freePort();
    ports = [ibPort, httpBase, httpBase + 1, httpBase + 2, httpBase + 3];
    env = {
      ...(process.env as Record<string, string>),
      DATABASE_URL: base.toString(),
      NATS_URL: testEnvironment().natsUrl,
      BUS_NAMESPACE: namespace,
      IB_PORT: String(ibPort),
      STACK_HTTP_PORT_BASE: String(httpBase),
      STACK_STATE_DIR: stateDir,
      BACKFILL_DAYS: '0.05',
      NO_COLOR: '1',
    };
  });

  afterAll(async () => {
    const bus = await Bus.connect({
      url: testEnvironment().natsUrl,
      name: 'signals-test-cleanup',
      namespace,
      logger: createLogger({ service: 'test', level: 'silent' }),
      registry: createRegistry('test', { defaultMetrics: false }),
    });
    await bus.destroyNamespace().catch(() => undefined);
    await bus.close();
    await dropDatabase(env.DATABASE_URL!, databaseName).catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  });

  async function nothingListening(): Promise<void> {
    await eventually(
      async () => expect(await Promise.all(ports.map(listening))).toEqual(ports.map(() => false)),
      { timeoutMs: 30_000 },
    );
  }

  it('stops every service when `npm start` itself gets SIGTERM', async () => {
    const npm = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(() => expect(output).toContain('all services ready'), { timeoutMs: 120_000 });
    expect(await listening(ports[0]!)).toBe(true);
    npm.kill('SIGTERM');
    await nothingListening();
  }, 180_000);

  it('stops what has started when SIGTERM arrives while the stack is still starting', async () => {
    const runner = spawnTs(START, [], env);
    await runner.waitForLine('starting ingestor', 120_000);
    await runner.kill('SIGTERM');
    expect((await runner.exited).code).toBe(0);
    await nothingListening();
  }, 180_000);
});
