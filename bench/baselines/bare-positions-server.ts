/**
 * The floor for `GET /api/positions` in `npm run bench -- dashboard-api`: a bare express handler that runs
 * the same query through the same ReadStore and answers the same JSON, with nothing else (no helmet, CORS,
 * rate limits, metrics, token check or error mapping).
 *
 *   DATABASE_URL=… HTTP_PORT=… node --import tsx bench/baselines/bare-positions-server.ts
 */
import { createServer } from 'node:http';

import { connectDatabase } from '@ibstack/db';
import express from 'express';

import { ReadStore } from '../../services/dashboard-api/src/adapters/pg-read';

async function main(): Promise<void> {
  const database = await connectDatabase(process.env.DATABASE_URL!, { applicationName: 'bare-positions' });
  const read = new ReadStore(database.db);
  const app = express();
  app.get('/api/positions', (_request, response, next) => {
    read.positions().then((positions) => response.json(positions), next);
  });
  app.get('/healthz', (_request, response) => {
    response.send('ok');
  });
  const server = createServer(app);
  server.listen(Number(process.env.HTTP_PORT), '127.0.0.1');
  process.on('SIGTERM', () => {
    server.close();
    void database.close().then(() => process.exit(0));
  });
}

void main();
