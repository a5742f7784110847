// `npm start`: the whole stack as local processes (simulated gateway by default).
import { ConfigError, loadConfig } from '@ibstack/config';

import { stackEnv } from '../config';
import { DependencyError, runStack, StackAbortedError, type StackHandle } from '../runner';

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
  const startup = new AbortController();
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping the stack…\n`);
    if (!handle) {
      // Still starting: runStack stops what it started and returns through the catch below.
      startup.abort();
      return;
    }
    await handle.stop();
    process.exit(0);
  };
  // SIGHUP too: a closed terminal or a dropped SSH session must not leave the services trading alone.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, () => void shutdown(signal));
  // `npm start` does not pass SIGTERM on (npm exits, and this process is left to init): whoever started
  // us is gone, so stop as if told to.
  const launchedBy = process.ppid;
  setInterval(() => {
    if (process.ppid !== launchedBy) void shutdown('launcher gone');
  }, 1_000).unref();
  // The services run in their own process groups; never leave them behind if the runner dies of an error.
  process.on('exit', () => handle?.services.forEach((service) => service.killNow()));
  try {
    handle = await runStack(config, { signal: startup.signal });
  } catch (error) {
    if (error instanceof StackAbortedError) process.exit(0);
    process.stderr.write(
      `${error instanceof DependencyError ? error.message : `ibstack: ${(error as Error).stack ?? String(error)}`}\n`,
    );
    process.exit(1);
  }
}

void main();
