import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

import { IbConnection } from '@ibstack/ib';
import { createRegistry } from '@ibstack/observability';
import { eventually, silentLogger } from '@ibstack/test-kit';

async function metricValue(
  connection: IbConnection,
  name: 'reconnectFailures' | 'connectionUp',
): Promise<number> {
  return (await connection.metrics[name].get()).values[0]?.value ?? 0;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('IbConnection without a gateway', () => {
  it('keeps retrying with backoff while nothing listens, counting failures, and stops at once', async () => {
    const connection = new IbConnection({
      host: '127.0.0.1',
      port: await freePort(),
      clientId: 1,
      logger: silentLogger(),
      registry: createRegistry('test', { defaultMetrics: false }),
      backoff: { initialDelayMs: 10, maxDelayMs: 50 },
    });
    connection.start();
    await eventually(async () =>
      expect(await metricValue(connection, 'reconnectFailures')).toBeGreaterThanOrEqual(3),
    );
    expect(connection.state).not.toBe('ready');
    expect(await metricValue(connection, 'connectionUp')).toBe(0);
    const stopping = Date.now();
    await connection.stop();
    expect(Date.now() - stopping).toBeLessThan(1_000);
  });

  it('gives up on a gateway that accepts the socket but never answers the handshake', async () => {
    const sockets: Socket[] = [];
    const server: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const connection = new IbConnection({
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      clientId: 1,
      logger: silentLogger(),
      registry: createRegistry('test', { defaultMetrics: false }),
      connectTimeoutMs: 200,
      backoff: { initialDelayMs: 10, maxDelayMs: 20 },
    });
    try {
      connection.start();
      await eventually(async () =>
        expect(await metricValue(connection, 'reconnectFailures')).toBeGreaterThanOrEqual(2),
      );
      expect(sockets.length).toBeGreaterThanOrEqual(2);
    } finally {
      await connection.stop();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
