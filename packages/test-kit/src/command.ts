import { spawn } from 'node:child_process';

export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CommandOptions {
  /** Variables added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** Kills the command (SIGKILL) after this long and rejects. @default 120000 */
  timeoutMs?: number;
}

/**
 * Runs a program to completion and returns its exit code and output; a non-zero exit is a result, not an
 * error (tests assert on it). For shell scripts, system tools (debootstrap, nginx, openssl) and CLIs.
 */
export function runCommand(
  file: string,
  args: readonly string[] = [],
  options: CommandOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timeoutMs = options.timeoutMs ?? 120_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${file} ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr: ${Buffer.concat(stderr).toString().slice(-2000)}`,
        ),
      );
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString(),
        stderr: Buffer.concat(stderr).toString(),
      });
    });
    child.stdin.on('error', () => undefined); // a command that exits without reading its input
    child.stdin.end(options.input ?? '');
  });
}

/** Like runCommand, but a non-zero exit rejects with the command's output. */
export async function runCommandOk(
  file: string,
  args: readonly string[] = [],
  options: CommandOptions = {},
): Promise<CommandResult> {
  const result = await runCommand(file, args, options);
  if (result.code !== 0)
    throw new Error(
      `${file} ${args.join(' ')} exited ${result.code ?? result.signal}\nstdout: ${result.stdout.slice(-3000)}\nstderr: ${result.stderr.slice(-3000)}`,
    );
  return result;
}
