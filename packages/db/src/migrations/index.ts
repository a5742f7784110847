import type { Migration, MigrationProvider } from 'kysely';

import * as m0001 from './0001_initial';
import * as m0002 from './0002_strategy';
import * as m0003 from './0003_execution';
import * as m0004 from './0004_ingestor';
import * as m0005 from './0005_unexplained_trades';
import * as m0006 from './0006_history_requests';
import * as m0007 from './0007_reconciliation';
import * as m0009 from './0009_dashboard_users';
import * as m0010 from './0010_notifier';
import * as m0011 from './0011_trading_state';
import * as m0012 from './0012_cash_baselines';

/**
 * Migrations are listed here rather than discovered on disk, so they run the same under tsx, jest and a
 * compiled build. Names sort in the order they apply; append only.
 */
const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_strategy': m0002,
  '0003_execution': m0003,
  '0004_ingestor': m0004,
  '0005_unexplained_trades': m0005,
  '0006_history_requests': m0006,
  '0007_reconciliation': m0007,
  '0009_dashboard_users': m0009,
  '0010_notifier': m0010,
  '0011_trading_state': m0011,
  '0012_cash_baselines': m0012,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
