/**
 * Execution's Postgres access: one repository per table group, and nothing else queries Postgres.
 * Every money write is one transaction: an order row with its first event (behind the fencing check), an
 * execution with its position update, a status change with its event. Order events and fills are written
 * unpublished; the outbox publishes them and marks them.
 */
import type { Database, Kysely } from '@ibstack/db';

import { AccountRepository } from './account.repository';
import { AuditRepository } from './audit.repository';
import { ExecutionsRepository } from './executions.repository';
import { FenceRepository } from './fence.repository';
import { InstrumentsRepository } from './instruments.repository';
import { OrdersRepository } from './orders.repository';
import { OutboxRepository } from './outbox.repository';
import { PositionsRepository } from './positions.repository';
import { ReconciliationRepository } from './reconciliation.repository';

export { type NewOrder, OPEN_STATUSES, snapshotOf } from './orders.repository';
export type { StoredExecution } from './executions.repository';

export class ExecutionStore {
  readonly orders: OrdersRepository;
  readonly executions: ExecutionsRepository;
  readonly positions: PositionsRepository;
  readonly reconciliation: ReconciliationRepository;
  readonly audit: AuditRepository;
  readonly fence: FenceRepository;
  readonly account: AccountRepository;
  readonly instruments: InstrumentsRepository;
  readonly outbox: OutboxRepository;

  /** @param clock epoch ms, for the `updated_at` we write. @default Date.now */
  constructor(db: Kysely<Database>, clock: () => number = Date.now) {
    this.orders = new OrdersRepository(db, clock);
    this.positions = new PositionsRepository(db, clock);
    this.executions = new ExecutionsRepository(db, this.positions);
    this.reconciliation = new ReconciliationRepository(db, clock);
    this.audit = new AuditRepository(db);
    this.fence = new FenceRepository(db);
    this.account = new AccountRepository(db);
    this.instruments = new InstrumentsRepository(db);
    this.outbox = new OutboxRepository(db);
  }
}
