/**
 * `positions`: moved by each fill in the transaction that stores the fill (ExecutionsRepository), rebuilt
 * from the executions that still count after a correction.
 */
import type { Database, Kysely, Transaction } from '@ibstack/db';

import { applyFill, averageCost, FLAT, type PositionState } from '../domain/positions';
import type { StoredExecution } from './executions.repository';

export class PositionsRepository {
  /** @param clock epoch ms, for the `updated_at` we write. @default Date.now */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: () => number = Date.now,
  ) {}

  async position(
    account: string,
    instrument: string,
  ): Promise<{ quantity: string; average_cost: string } | undefined> {
    return this.db
      .selectFrom('positions')
      .select(['quantity', 'average_cost'])
      .where('account', '=', account)
      .where('instrument', '=', instrument)
      .executeTakeFirst();
  }

  async positions(): Promise<Array<{ account: string; instrument: string; quantity: string }>> {
    return this.db.selectFrom('positions').select(['account', 'instrument', 'quantity']).execute();
  }

  /** Moves the position by one fill, inside the transaction that stores the fill. */
  async move(trx: Transaction<Database>, execution: StoredExecution): Promise<void> {
    const row = await trx
      .selectFrom('positions')
      .selectAll()
      .where('account', '=', execution.account)
      .where('instrument', '=', execution.instrument)
      .forUpdate()
      .executeTakeFirst();
    const current: PositionState = row
      ? { quantity: row.quantity, costBasis: row.cost_basis, realizedPnl: row.realized_pnl }
      : FLAT;
    await this.writePosition(trx, execution.account, execution.instrument, applyFill(current, execution));
  }

  /** Rebuilds the position from the executions that still count, inside the storing transaction. */
  async rebuild(trx: Transaction<Database>, account: string, instrument: string): Promise<void> {
    await trx
      .selectFrom('positions')
      .select('quantity')
      .where('account', '=', account)
      .where('instrument', '=', instrument)
      .forUpdate()
      .execute();
    const executions = await trx
      .selectFrom('executions')
      .select(['side', 'quantity', 'price'])
      .where('account', '=', account)
      .where('instrument', '=', instrument)
      .where('superseded_by', 'is', null)
      .orderBy('executed_at')
      .orderBy('exec_id')
      .execute();
    const position = executions.reduce<PositionState>(
      (state, fill) => applyFill(state, { side: fill.side, quantity: fill.quantity, price: fill.price }),
      FLAT,
    );
    await this.writePosition(trx, account, instrument, position);
  }

  private async writePosition(
    trx: Transaction<Database>,
    account: string,
    instrument: string,
    position: PositionState,
  ): Promise<void> {
    await trx
      .insertInto('positions')
      .values({
        account,
        instrument,
        quantity: position.quantity,
        average_cost: averageCost(position),
        cost_basis: position.costBasis,
        realized_pnl: position.realizedPnl,
        updated_at: new Date(this.clock()),
      })
      .onConflict((conflict) =>
        conflict.columns(['account', 'instrument']).doUpdateSet({
          quantity: position.quantity,
          average_cost: averageCost(position),
          cost_basis: position.costBasis,
          realized_pnl: position.realizedPnl,
          updated_at: new Date(this.clock()),
        }),
      )
      .execute();
  }
}
