import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface SpawnedProcess {
  readonly child: ChildProcess;
  /** Lines written to stdout so far. */
  readonly lines: string[];
  /** Resolves with the first stdout line that matches. */
  waitForLine(match: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs a TypeScript file in its own Node process (through tsx), as a service runs in production. */
export function spawnTs(
  file: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): SpawnedProcess {
  return spawnProcess(process.execPath, ['--import', 'tsx', file, ...args], env);
}

/** Runs any program (nginx, prometheus, an exporter) as a long-lived child whose output lines are kept. */
export function spawnProcess(
  file: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): SpawnedProcess {
  const child = spawn(file, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<{ match: RegExp | string; resolve: (line: string) => void }> = [];
  const matches = (line: string, match: RegExp | string) =>
    typeof match === 'string' ? line.includes(match) : match.test(line);
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (matches(line, waiter.match)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const stderr: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    exited,
    waitForLine: (match, timeoutMs = 15_000) => {
      const found = lines.find((line) => matches(line, match));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no line matching ${String(match)} within ${timeoutMs} ms; stderr: ${stderr.join('').slice(-2000)}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(
            new Error(
              `process exited before a line matching ${String(match)}; stderr: ${stderr.join('').slice(-2000)}`,
            ),
          );
        });
      });
    },
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
