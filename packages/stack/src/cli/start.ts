// `npm start`: the whole stack as local processes (simulated gateway by default).
import { ConfigError, loadConfig } from '@ibstack/config';

import { stackEnv } from '../config';
import { DependencyError, runStack, type StackHandle } from '../runner';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig('ibstack', stackEnv);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  let handle: StackHandle | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping the stack…\n`);
    await handle?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  // The services run in their own process groups; never leave them behind if the runner dies of an error.
  process.on('exit', () => handle?.services.forEach((service) => service.killNow()));
  try {
    handle = await runStack(config);
    if (stopping) await handle.stop();
  } catch (error) {
    process.stderr.write(
      `${error instanceof DependencyError ? error.message : `ibstack: ${(error as Error).stack ?? String(error)}`}\n`,
    );
    process.exit(1);
  }
}

void main();
