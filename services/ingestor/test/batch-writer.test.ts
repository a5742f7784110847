import { eventually, silentLogger } from '@ibstack/test-kit';

import { BatchWriter } from '../src/batch-writer';

function writer(options: { fail?: () => boolean; limit?: number; batchSize?: number } = {}) {
  const written: number[][] = [];
  const dropped: number[] = [];
  const batches = new BatchWriter<number>({
    name: 'test',
    batchSize: options.batchSize ?? 3,
    flushIntervalMs: 20,
    limit: options.limit ?? 100,
    logger: silentLogger(),
    write: (rows) => {
      if (options.fail?.()) return Promise.reject(new Error('database down'));
      written.push([...rows]);
      return Promise.resolve();
    },
    onDropped: (row) => dropped.push(row),
  });
  return { batches, written, dropped };
}

describe('batch writer', () => {
  it('writes a full batch at once and the rest after the interval', async () => {
    const { batches, written } = writer();
    for (const row of [1, 2, 3, 4]) batches.enqueue(row);
    await eventually(() => expect(written).toEqual([[1, 2, 3], [4]]));
  });

  it('keeps rows through a failed write and writes them, in order, once the database is back', async () => {
    let down = true;
    const { batches, written } = writer({ fail: () => down });
    for (const row of [1, 2, 3, 4, 5]) batches.enqueue(row);
    await eventually(() => expect(batches.pending).toHaveLength(5));
    down = false;
    await eventually(() => expect(written.flat()).toEqual([1, 2, 3, 4, 5]));
  });

  it('drops the oldest rows beyond its limit, and says which', async () => {
    const { batches, dropped } = writer({ fail: () => true, limit: 4, batchSize: 100 });
    for (const row of [1, 2, 3, 4, 5, 6]) batches.enqueue(row);
    expect(dropped).toEqual([1, 2]);
    expect(batches.pending).toEqual([3, 4, 5, 6]);
    await batches.stop(100);
  });

  it('writes everything still queued when stopped', async () => {
    const { batches, written } = writer({ batchSize: 100 });
    for (const row of [1, 2]) batches.enqueue(row);
    await batches.stop();
    expect(written.flat()).toEqual([1, 2]);
  });
});
