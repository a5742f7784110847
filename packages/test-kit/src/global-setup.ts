import { checkNats } from '@ibstack/bus';
import { checkPostgres } from '@ibstack/db';

import { testEnvironment } from './environment';

/**
 * Runs once before the suite: if Postgres or NATS is missing, stop at once with a message that names the
 * service and the variable, instead of letting every test time out.
 */
export default async function globalSetup(): Promise<void> {
  const { databaseUrl, natsUrl } = testEnvironment();
  const problems = (await Promise.all([checkPostgres(databaseUrl), checkNats(natsUrl)])).filter(
    (problem): problem is string => problem !== null,
  );
  if (problems.length > 0) {
    throw new Error(
      `The tests need Postgres and NATS JetStream:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
}
