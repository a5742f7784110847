import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { type GatewaySim, startGatewaySim } from '@ibstack/gateway-sim';
import { runHealthcheck } from '@ibstack/ib';
import { createRegistry } from '@ibstack/observability';
import { silentLogger, spawnTs } from '@ibstack/test-kit';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('gateway healthcheck', () => {
  let sim: GatewaySim;

  beforeEach(async () => {
    sim = await startGatewaySim({
      port: 0,
      serverVersion: 193,
      logger: silentLogger('gateway-sim'),
      registry: createRegistry('gateway-sim', { defaultMetrics: false }),
    });
  });
  afterEach(async () => {
    await sim.close();
  });

  it('passes against a gateway that completes the handshake and answers reqCurrentTime', async () => {
    const result = await runHealthcheck({ host: '127.0.0.1', port: sim.port, timeoutMs: 3_000 });
    expect(result).toMatchObject({ ok: true, serverVersion: 193 });
    expect(result.reason).toBe('API handshake and reqCurrentTime answered (server version 193)');
    expect(result.gatewayTime).toBeGreaterThan(1_700_000_000);
  });

  it('fails fast with the reason when nothing listens', async () => {
    const result = await runHealthcheck({ host: '127.0.0.1', port: await freePort(), timeoutMs: 3_000 });
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^error 502 at connecting: .*ECONNREFUSED/);
    expect(result.elapsedMs).toBeLessThan(2_000);
  });

  it('fails within the timeout against a stalled gateway', async () => {
    sim.faults.stall(true);
    const result = await runHealthcheck({ host: '127.0.0.1', port: sim.port, timeoutMs: 500 });
    expect(result).toMatchObject({ ok: false, reason: 'no answer within 500 ms (stuck at connecting)' });
    sim.faults.stall(false);
  });

  it('fails against a server that accepts the socket but never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const result = await runHealthcheck({
        host: '127.0.0.1',
        port: (silent.address() as AddressInfo).port,
        timeoutMs: 400,
      });
      expect(result.ok).toBe(false);
      expect(result.reason).toMatch(/^no answer within 400 ms/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('runs as a CLI: exit 0 with one healthy line, exit 1 with one unhealthy line', async () => {
    const cli = join(__dirname, '..', 'src', 'cli', 'healthcheck.ts');
    const healthy = spawnTs(cli, ['--host', '127.0.0.1', '--port', String(sim.port), '--timeout', '3000']);
    expect(await healthy.exited).toEqual({ code: 0, signal: null });
    expect(healthy.lines).toEqual([
      expect.stringMatching(
        /^healthy: 127\.0\.0\.1:\d+ API handshake and reqCurrentTime answered \(server version 193\) in \d+ ms$/,
      ),
    ]);
    const unhealthy = spawnTs(cli, ['--port', String(await freePort()), '--timeout', '1000'], {
      IB_HOST: '127.0.0.1',
    });
    expect(await unhealthy.exited).toEqual({ code: 1, signal: null });
    expect(unhealthy.lines).toEqual([]);
  });
});
