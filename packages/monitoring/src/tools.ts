import { execFile } from 'node:child_process';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for error messages. */
  output: string;
}

/**
 * Runs one of the Prometheus tools Debian installs (`promtool`, `amtool`) and returns its exit code and
 * output; a missing binary is an error that says which package to install.
 */
export function runTool(command: 'promtool' | 'amtool', args: readonly string[]): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(command, [...args], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        const pkg = command === 'promtool' ? 'prometheus' : 'prometheus-alertmanager';
        reject(new Error(`${command} not found: apt-get install --no-install-recommends ${pkg}`));
        return;
      }
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr, output: `${stdout}${stderr}` });
    });
  });
}
