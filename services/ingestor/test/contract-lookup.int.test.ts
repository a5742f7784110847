import type { GatewaySim } from '@ibstack/gateway-sim';
import { eventually } from '@ibstack/test-kit';

import type { IngestorService } from '../src/service';
import { bootService, createStack, destroyStack, metricValue, type Stack, startSim } from './support/harness';

// Only IB's 200 ("no security definition") makes an instrument unknown; any other failure of the lookup
// (a pacing refusal, a data farm down) is asked again, and the instrument is ingested once it answers.
describe('ingestor: a contract lookup that fails for a passing reason', () => {
  let sim: GatewaySim;
  let stack: Stack;
  let service: IngestorService | undefined;

  afterAll(async () => {
    await service?.stop();
    await sim?.close();
    await destroyStack(stack);
  });

  it('asks again and ingests the instrument, without calling it unknown', async () => {
    sim = await startSim();
    stack = await createStack();
    sim.faults.failNextContractLookups(1, 322, 'Error processing request: -');
    service = await bootService(sim, stack, { INSTRUMENTS: 'EUR.CAD' });
    await eventually(
      async () => {
        const rows = await stack.db.db.selectFrom('instruments').select('instrument').execute();
        expect(rows.map((row) => row.instrument)).toEqual(['EURCAD']);
      },
      { timeoutMs: 20_000 },
    );
    await eventually(
      async () => {
        const bars = await stack.db.db
          .selectFrom('bars')
          .select('ts')
          .where('instrument', '=', 'EURCAD')
          .execute();
        expect(bars.length).toBeGreaterThan(0);
      },
      { timeoutMs: 20_000 },
    );
    expect(await metricValue(service, 'md_unknown_instruments_total', { instrument: 'EURCAD' })).toBe(0);
  }, 60_000);
});
