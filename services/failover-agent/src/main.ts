// Wiring only: configuration, the bus, the agent, its HTTP endpoints, a clean stop on signals.
import { Bus } from '@ibstack/bus';
import { loadConfigOrExit } from '@ibstack/config';
import {
  createLogger,
  createRegistry,
  startHealthServer,
  startOrExit,
  stopOnSignals,
} from '@ibstack/observability';

import { failoverAgentEnv } from './config';
import { createFailoverAgent, SERVICE } from './service';

const config = loadConfigOrExit(SERVICE, failoverAgentEnv, process.env);
const logger = createLogger({ service: SERVICE, level: config.LOG_LEVEL });

startOrExit(logger, SERVICE, async () => {
  const registry = createRegistry(SERVICE);
  const bus = await Bus.connectService(`${SERVICE}-${config.FAILOVER_HOST}`, config, {
    logger,
    registry,
    connectTimeoutMs: 15_000,
  });
  const agent = createFailoverAgent(config, { logger, registry, bus });
  const http = await startHealthServer({
    port: config.HTTP_PORT,
    registry,
    checks: [
      { name: 'nats', check: () => bus.isConnected() },
      { name: 'started', check: () => agent.isStarted() },
    ],
    routes: {
      '/status': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(agent.status()));
      },
    },
  });
  stopOnSignals(logger, async () => {
    await agent.stop();
    await http.close();
    await bus.close();
  });
  await agent.start();
  logger.info({ http: http.url, host: config.FAILOVER_HOST }, 'failover agent HTTP endpoints listening');
});
