import { spawn } from 'node:child_process';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for error messages. */
  output: string;
}

/**
 * Runs one of the Prometheus tools Debian installs (`promtool`, `amtool`) and returns its exit code and
 * output; `input` goes to its stdin. A missing binary is an error that says which package to install.
 */
export function runTool(
  command: 'promtool' | 'amtool',
  args: readonly string[],
  options: { input?: string } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        const pkg = command === 'promtool' ? 'prometheus' : 'prometheus-alertmanager';
        reject(new Error(`${command} not found: apt-get install --no-install-recommends ${pkg}`));
      } else reject(error);
    });
    child.once('close', (code) => {
      const out = Buffer.concat(stdout).toString();
      const err = Buffer.concat(stderr).toString();
      resolve({ code: code ?? 1, stdout: out, stderr: err, output: `${out}${err}` });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
