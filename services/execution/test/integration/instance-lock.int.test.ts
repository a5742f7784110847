import { connectDatabase, type DatabaseHandle } from '@ibstack/db';
import { createTestDatabase, eventually, silentLogger, type TestDatabase } from '@ibstack/test-kit';

import { InstanceLock } from '../../src/adapters/instance-lock';

describe('instance lock', () => {
  let database: TestDatabase;
  const handles: DatabaseHandle[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(handles.map((handle) => handle.close()));
    await database.drop();
  });

  const lock = async (identity: string) => {
    const handle = await connectDatabase(database.url);
    handles.push(handle);
    return new InstanceLock(handle.pool, identity, silentLogger('lock'));
  };

  it('is held by one live process per identity and free again once that process is gone', async () => {
    const first = await lock('host-a');
    const second = await lock('host-a');
    const other = await lock('host-b');
    expect(await first.holds()).toBe(true);
    expect(await second.holds()).toBe(false);
    expect(await other.holds()).toBe(true);
    // A process that dies loses its connection, which is what close() does here.
    first.close();
    // Postgres ends the session (and its locks) a moment after the connection closes.
    await eventually(async () => expect(await second.holds()).toBe(true));
    expect(await first.holds()).toBe(false);
  });
});
