/**
 * `npm run gateway-sim -- --port 4002 --seed 42 …`: command-line flags override the environment, then the
 * usual wiring in main.ts runs.
 */
import { loadConfigOrExit } from '@ibstack/config';
import { Command } from 'commander';

import { gatewaySimEnv } from './config';
import { runGatewaySim } from './main';

/** Turns flags into the environment variables they override, so both go through one validation. */
export function flagsToEnvironment(argv: readonly string[]): Record<string, string> {
  const program = new Command()
    .name('gateway-sim')
    .description('Simulated IB Gateway speaking the TWS API (paper account, prices, orders, faults)')
    .option('--host <host>', 'interface for the API and HTTP ports (GATEWAY_SIM_HOST)')
    .option('--port <port>', 'TWS API port (GATEWAY_SIM_PORT)')
    .option('--http-port <port>', 'health/metrics/admin port (HTTP_PORT)')
    .option('--server-version <version>', '176 or 193 (GATEWAY_SIM_SERVER_VERSION)')
    .option('--seed <seed>', 'price seed (GATEWAY_SIM_SEED)')
    .option('--speed <factor>', 'simulated seconds per wall second (GATEWAY_SIM_SPEED)')
    .option('--start-time <time>', 'simulated clock start, ISO 8601 or epoch ms (GATEWAY_SIM_START_TIME)')
    .option('--always-open', 'markets never close (GATEWAY_SIM_MARKET_HOURS=always-open)')
    .option('--account <id>', 'paper account id (GATEWAY_SIM_ACCOUNT)')
    .option('--initial-cash <usd>', 'starting cash in USD (GATEWAY_SIM_INITIAL_CASH)')
    .option('--state-file <path>', 'persist the account across restarts (GATEWAY_SIM_STATE_FILE)')
    .option('--transmit <mode>', 'strict or lenient (GATEWAY_SIM_TRANSMIT)')
    .option('--no-pacing', 'switch off historical-data pacing (GATEWAY_SIM_PACING=false)')
    .option('--csv <file>', 'replay prices from a CSV file (GATEWAY_SIM_CSV)')
    .option('--tick-interval <ms>', 'wall ms between market-data ticks (GATEWAY_SIM_TICK_INTERVAL_MS)')
    .option(
      '--quote-updates-per-tick <n>',
      'quotes per subscription per tick (GATEWAY_SIM_QUOTE_UPDATES_PER_TICK)',
    )
    .option(
      '--time-zone <zone>',
      "the gateway's local zone, whose midnight cuts reqExecutions (GATEWAY_SIM_TIME_ZONE)",
    )
    .option('--execution-window <window>', 'since-midnight or unlimited (GATEWAY_SIM_EXECUTION_WINDOW)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (LOG_LEVEL)')
    .exitOverride()
    .parse(argv, { from: 'user' });
  const flags = program.opts<Record<string, string | boolean | undefined>>();
  const names: Record<string, string> = {
    host: 'GATEWAY_SIM_HOST',
    port: 'GATEWAY_SIM_PORT',
    httpPort: 'HTTP_PORT',
    serverVersion: 'GATEWAY_SIM_SERVER_VERSION',
    seed: 'GATEWAY_SIM_SEED',
    speed: 'GATEWAY_SIM_SPEED',
    startTime: 'GATEWAY_SIM_START_TIME',
    account: 'GATEWAY_SIM_ACCOUNT',
    initialCash: 'GATEWAY_SIM_INITIAL_CASH',
    stateFile: 'GATEWAY_SIM_STATE_FILE',
    transmit: 'GATEWAY_SIM_TRANSMIT',
    csv: 'GATEWAY_SIM_CSV',
    logLevel: 'LOG_LEVEL',
    tickInterval: 'GATEWAY_SIM_TICK_INTERVAL_MS',
    quoteUpdatesPerTick: 'GATEWAY_SIM_QUOTE_UPDATES_PER_TICK',
    timeZone: 'GATEWAY_SIM_TIME_ZONE',
    executionWindow: 'GATEWAY_SIM_EXECUTION_WINDOW',
  };
  const environment: Record<string, string> = {};
  for (const [flag, variable] of Object.entries(names)) {
    const value = flags[flag];
    if (typeof value === 'string') environment[variable] = value;
  }
  if (flags.alwaysOpen === true) environment.GATEWAY_SIM_MARKET_HOURS = 'always-open';
  if (flags.pacing === false) environment.GATEWAY_SIM_PACING = 'false';
  return environment;
}

if (require.main === module) {
  let overrides: Record<string, string>;
  try {
    overrides = flagsToEnvironment(process.argv.slice(2));
  } catch (error) {
    // commander has printed the usage problem (or the help text) already.
    process.exit((error as { exitCode?: number }).exitCode ?? 64);
  }
  const config = loadConfigOrExit('gateway-sim', gatewaySimEnv, { ...process.env, ...overrides });
  runGatewaySim(config).catch((error: unknown) => {
    process.stderr.write(
      `gateway-sim failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
