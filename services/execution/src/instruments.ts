/**
 * The instruments execution may trade, by key. Configured ones are resolved at the gateway (conId) when a
 * session starts; others are looked up in the `instruments` table the ingestor fills. An intent for an
 * instrument found in neither is rejected before anything is sent.
 */
import { type Instrument, instrumentKey } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import type { InstrumentsRepository } from './adapters/instruments.repository';
import { BrokerRequestError } from './errors';
import type { Broker } from './ports';

export class InstrumentBook {
  private readonly byKey = new Map<string, Instrument>();

  constructor(
    configured: readonly Instrument[],
    private readonly stored: Pick<InstrumentsRepository, 'find'>,
    private readonly log: Logger,
  ) {
    for (const instrument of configured) this.byKey.set(instrumentKey(instrument), instrument);
  }

  /** Resolves conIds of the configured instruments; an unknown one is logged and left unresolved. */
  async resolveAtGateway(broker: Broker): Promise<void> {
    for (const [key, instrument] of this.byKey) {
      if (instrument.conId) continue;
      try {
        const conId = await broker.contractId(instrument);
        if (conId) this.byKey.set(key, { ...instrument, conId });
      } catch (error) {
        // Only IB's "no security definition" (200) says the instrument does not exist; a timeout or a
        // dropped session says nothing, and the next session tries again.
        if (error instanceof BrokerRequestError && error.code === 200) {
          this.log.error(
            { err: error, instrument: key },
            'instrument not known to the gateway; intents for it will be rejected',
          );
          this.byKey.delete(key);
        } else {
          this.log.warn(
            { err: error, instrument: key },
            'could not resolve the instrument at the gateway now; keeping it',
          );
        }
      }
    }
  }

  async find(key: string): Promise<Instrument | undefined> {
    const known = this.byKey.get(key);
    if (known) return known;
    const instrument = await this.stored.find(key);
    if (!instrument) return undefined;
    this.byKey.set(key, instrument);
    return instrument;
  }
}
