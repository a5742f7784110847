/**
 * Wiring only: configuration → logger and registry → startGatewaySim → stop on SIGTERM/SIGINT. Run directly
 * (`tsx src/main.ts`) it reads the environment; `cli.ts` adds command-line flags on top.
 */
import { loadConfigOrExit } from '@ibstack/config';
import { createLogger, createRegistry } from '@ibstack/observability';

import { gatewaySimEnv, type GatewaySimConfig, toGatewaySimOptions } from './config';
import { type GatewaySim, startGatewaySim } from './gateway-sim';

export async function runGatewaySim(config: GatewaySimConfig): Promise<GatewaySim> {
  const logger = createLogger({ service: 'gateway-sim', level: config.LOG_LEVEL });
  const registry = createRegistry('gateway-sim');
  const sim = await startGatewaySim({ ...toGatewaySimOptions(config), logger, registry });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    sim.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return sim;
}

if (require.main === module) {
  runGatewaySim(loadConfigOrExit('gateway-sim', gatewaySimEnv)).catch((error: unknown) => {
    process.stderr.write(
      `gateway-sim failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
