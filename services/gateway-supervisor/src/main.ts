// Wiring only: configuration, the bus, the supervisor, its HTTP endpoints, a clean stop on signals.
import { Bus } from '@ibstack/bus';
import { loadConfigOrExit } from '@ibstack/config';
import {
  createLogger,
  createRegistry,
  startHealthServer,
  startOrExit,
  stopOnSignals,
} from '@ibstack/observability';

import { gatewaySupervisorChecks, gatewaySupervisorEnv } from './config';
import { createGatewaySupervisorService, SERVICE } from './service';

const config = loadConfigOrExit(SERVICE, gatewaySupervisorEnv, process.env, {
  checks: gatewaySupervisorChecks,
});
const logger = createLogger({ service: SERVICE, level: config.LOG_LEVEL });

startOrExit(logger, SERVICE, async () => {
  const registry = createRegistry(SERVICE);
  const bus = await Bus.connectService(SERVICE, config, { logger, registry });
  const supervisor = createGatewaySupervisorService(config, { logger, registry, bus });
  // Ready = the supervisor runs and can publish; the gateway's own readiness is a metric and a message.
  const http = await startHealthServer({
    port: config.HTTP_PORT,
    registry,
    checks: [
      { name: 'nats', check: () => bus.isConnected() },
      { name: 'started', check: () => supervisor.isStarted() },
    ],
    routes: {
      '/status': (_req, res) => {
        const body = JSON.stringify(supervisor.health());
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      },
    },
  });
  stopOnSignals(logger, async () => {
    await supervisor.stop();
    await http.close();
    await bus.close();
  });
  await supervisor.start();
  logger.info({ port: http.port }, 'gateway supervisor HTTP endpoints listening');
});
