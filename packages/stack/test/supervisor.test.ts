import { join } from 'node:path';

import {
  type ServiceSpec,
  Supervisor,
  formatLine,
  stackEnv,
  runStack,
  DependencyError,
} from '@ibstack/stack';
import { eventually, freePort } from '@ibstack/test-kit';
import { loadConfig } from '@ibstack/config';

const FAKE = join(__dirname, 'fixtures', 'service.ts');

async function spec(env: Record<string, string> = {}): Promise<ServiceSpec> {
  const port = await freePort();
  return {
    name: 'fake',
    entry: FAKE,
    env: { ...process.env, HTTP_PORT: String(port), ...env },
    healthUrl: `http://127.0.0.1:${port}`,
  };
}

describe('supervisor', () => {
  it('waits for /readyz, restarts a crashed service with backoff, and says so', async () => {
    const announcements: string[] = [];
    const lines: string[] = [];
    const supervisor = new Supervisor(await spec({ CRASH_AFTER_MS: '1500' }), {
      print: (line) => lines.push(line),
      announce: (message) => announcements.push(message),
      restartDelayMs: 100,
    });
    supervisor.start();
    try {
      await supervisor.waitUntilReady(15_000);
      const firstPid = supervisor.pid;
      await eventually(
        () =>
          expect(announcements).toContainEqual(
            expect.stringMatching(/^fake exited \(code 3\); restarting in 0\.1 s \(restart #1\)$/),
          ),
        { timeoutMs: 10_000 },
      );
      await eventually(() => expect(supervisor.pid).not.toBe(firstPid), { timeoutMs: 10_000 });
      await supervisor.waitUntilReady(15_000);
      expect(lines.filter((line) => line.includes('fake service up')).length).toBeGreaterThanOrEqual(2);
    } finally {
      await supervisor.stop();
    }
  }, 60_000);

  it('stops with SIGTERM, and kills a service that ignores it after the grace period', async () => {
    const announcements: string[] = [];
    const supervisor = new Supervisor(await spec({ IGNORE_SIGTERM: '1' }), {
      print: () => undefined,
      announce: (message) => announcements.push(message),
      stopTimeoutMs: 300,
    });
    supervisor.start();
    await supervisor.waitUntilReady(15_000);
    await supervisor.stop();
    expect(supervisor.pid).toBeUndefined();
    expect(announcements).toEqual(['fake did not stop within 0.3 s; killing it']);
  }, 60_000);

  it('does not restart a service that exits with a configuration error, and says why at once', async () => {
    const announcements: string[] = [];
    const supervisor = new Supervisor(await spec({ EXIT_AT_START: '78' }), {
      print: () => undefined,
      announce: (message) => announcements.push(message),
      restartDelayMs: 50,
    });
    const started = Date.now();
    supervisor.start();
    try {
      await expect(supervisor.waitUntilReady(60_000)).rejects.toThrow(/configuration error.*not restarting/);
      expect(Date.now() - started).toBeLessThan(10_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(supervisor.restartCount).toBe(0);
      expect(supervisor.pid).toBeUndefined();
      expect(announcements).toEqual([expect.stringMatching(/^fake exited with a configuration error/)]);
    } finally {
      await supervisor.stop();
    }
  }, 30_000);

  it('gives up waiting for a service that keeps dying while it starts', async () => {
    const supervisor = new Supervisor(await spec({ EXIT_AT_START: '3' }), {
      print: () => undefined,
      announce: () => undefined,
      restartDelayMs: 50,
    });
    supervisor.start();
    try {
      await expect(supervisor.waitUntilReady(60_000)).rejects.toThrow(/died 3 times while starting/);
    } finally {
      await supervisor.stop();
    }
  }, 30_000);

  it('stops waiting when start-up is interrupted', async () => {
    const supervisor = new Supervisor(
      { ...(await spec()), healthUrl: `http://127.0.0.1:${await freePort()}` },
      { print: () => undefined, announce: () => undefined },
    );
    const interrupt = new AbortController();
    supervisor.start();
    try {
      setTimeout(() => interrupt.abort(), 300);
      await expect(supervisor.waitUntilReady(60_000, interrupt.signal)).rejects.toThrow(/interrupted/);
    } finally {
      await supervisor.stop();
    }
  }, 30_000);

  it('reports a service that never becomes ready', async () => {
    const supervisor = new Supervisor(
      { ...(await spec()), healthUrl: `http://127.0.0.1:${await freePort()}` },
      { print: () => undefined, announce: () => undefined },
    );
    supervisor.start();
    try {
      await expect(supervisor.waitUntilReady(1_000)).rejects.toThrow(/^fake not ready within 1 s/);
    } finally {
      await supervisor.stop();
    }
  }, 30_000);
});

describe('log lines', () => {
  const plain = (text: string) => text;

  it('prefixes a pino line with the service and shows level, message and fields', () => {
    const line = JSON.stringify({
      level: 'warn',
      time: 't',
      service: 'execution',
      msg: 'lease lost',
      reason: 'ttl',
      pid: 1,
    });
    expect(formatLine('execution', 10, plain, line)).toMatch(
      /^execution +│ .*WARN.* lease lost .*reason.*=ttl$/,
    );
  });

  it('prints anything else as it came', () => {
    expect(formatLine('ingestor', 9, plain, 'Error: boom')).toBe('ingestor  │ Error: boom');
  });
});

describe('runner without its dependencies', () => {
  it('says at once which service is missing and how to get it', async () => {
    const config = loadConfig('test', stackEnv, {
      NATS_URL: `nats://127.0.0.1:${await freePort()}`,
      DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/ibstack`,
    });
    const started = Date.now();
    const failure = runStack(config, { write: () => undefined });
    await expect(failure).rejects.toBeInstanceOf(DependencyError);
    await expect(failure).rejects.toThrow(
      /Postgres is not reachable .*DATABASE_URL[\s\S]*NATS is not reachable .*NATS_URL/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
