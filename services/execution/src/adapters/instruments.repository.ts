/** `instruments`: what the ingestor resolved at the gateway, for instruments execution was not configured with. */
import type { Instrument } from '@ibstack/contracts';
import type { Database, Kysely } from '@ibstack/db';

export class InstrumentsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async find(key: string): Promise<Instrument | undefined> {
    const row = await this.db
      .selectFrom('instruments')
      .selectAll()
      .where('instrument', '=', key)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      symbol: row.symbol,
      secType: row.sec_type,
      exchange: row.exchange,
      currency: row.currency,
      ...(row.local_symbol ? { localSymbol: row.local_symbol } : {}),
      ...(row.con_id ? { conId: row.con_id } : {}),
    };
  }
}
