import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

import { checkNats } from '@ibstack/bus';
import { checkPostgres } from '@ibstack/db';
import { testEnvironment } from '@ibstack/test-kit';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('dependency checks (what a run without Postgres or NATS prints)', () => {
  it('names Postgres, how to start it and DATABASE_URL, within the timeout', async () => {
    const started = Date.now();
    const problem = await checkPostgres(`postgres://postgres@127.0.0.1:${await closedPort()}/ibstack`);
    expect(problem).toMatch(
      /^Postgres is not reachable at 127\.0\.0\.1:\d+ .*apt install postgresql.*set DATABASE_URL\.$/,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('names NATS, how to start it and NATS_URL', async () => {
    const problem = await checkNats(`nats://127.0.0.1:${await closedPort()}`);
    expect(problem).toMatch(
      /^NATS is not reachable at nats:\/\/127\.0\.0\.1:\d+ .*nats-server -js.*set NATS_URL\.$/,
    );
  });

  it('finds the real services of this machine', async () => {
    const { databaseUrl, natsUrl } = testEnvironment();
    expect(await checkPostgres(databaseUrl)).toBeNull();
    expect(await checkNats(natsUrl)).toBeNull();
  });
});
