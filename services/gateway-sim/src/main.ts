/**
 * Wiring only: configuration → logger and registry → startGatewaySim → stop on SIGTERM/SIGINT. Run directly
 * (`tsx src/main.ts`) it reads the environment; `cli.ts` adds command-line flags on top.
 */
import { loadConfigOrExit } from '@ibstack/config';
import { createLogger, createRegistry, stopOnSignals } from '@ibstack/observability';

import { gatewaySimEnv, type GatewaySimConfig, toGatewaySimOptions } from './config';
import { type GatewaySim, startGatewaySim } from './gateway-sim';

export async function runGatewaySim(config: GatewaySimConfig): Promise<GatewaySim> {
  const logger = createLogger({ service: 'gateway-sim', level: config.LOG_LEVEL });
  const registry = createRegistry('gateway-sim');
  const sim = await startGatewaySim({ ...toGatewaySimOptions(config), logger, registry });
  stopOnSignals(logger, () => sim.close());
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
