import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  /** The last lines of stdout and stderr together, for the record and the log. */
  output: string;
}

/**
 * Runs an operator-configured command (an argv, never through a shell) and resolves when it exits or
 * is killed at the timeout. Placeholders `{name}` in the arguments are replaced from `values`.
 */
export function runCommand(
  argv: readonly string[],
  values: Readonly<Record<string, string>>,
  timeoutMs: number,
): Promise<CommandResult> {
  const [command, ...args] = argv.map((part) =>
    part.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole),
  );
  return new Promise((resolve) => {
    const child = spawn(command!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      output += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, output: `${output}\n${error.message}`.trim() });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.trim() });
    });
  });
}
