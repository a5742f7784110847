import { commonEnv, loadConfigOrExit } from '@ibstack/config';

import { migrateToLatest } from '../migrate';

const env = loadConfigOrExit('migrate', commonEnv.pick({ DATABASE_URL: true }));

migrateToLatest(env.DATABASE_URL).then(
  (report) => {
    if (report.databaseCreated) process.stdout.write('created database\n');
    if (report.applied.length === 0) process.stdout.write('database is up to date\n');
    for (const name of report.applied) process.stdout.write(`applied ${name}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`migrate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
