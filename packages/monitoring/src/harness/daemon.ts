import { type ChildProcess, spawn } from 'node:child_process';

export interface Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  /** The last lines it wrote (stdout and stderr), for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface DaemonOptions {
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Polled until it answers 200. */
  readyUrl: string;
  /** @default 30000 */
  readyTimeoutMs?: number;
}

const KEEP_LINES = 200;

/**
 * Starts a server binary (Prometheus, Alertmanager, an exporter) as a child process and resolves once
 * its ready URL answers 200; rejects with its output if it exits or does not become ready in time.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const child = spawn(options.command, [...options.args], {
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > KEEP_LINES) lines.splice(0, lines.length - KEEP_LINES);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (error) => {
      spawnError = error;
      exited = { code: null, signal: null };
      resolve();
    });
  });
  const output = () => lines.join('\n');
  const stop = async (graceMs = 10_000) => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    }
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) {
      const why = spawnError ? spawnError.message : `exited (${exited.signal ?? `code ${exited.code}`})`;
      throw new Error(`${options.name} ${why} before it was ready:\n${output()}`);
    }
    try {
      const response = await fetch(options.readyUrl, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${options.name} not ready at ${options.readyUrl} within the timeout:\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { name: options.name, child, output, stop };
}
