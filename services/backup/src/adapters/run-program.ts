import { spawn } from 'node:child_process';

import { BackupStepError } from '../errors';

export interface ProgramResult {
  readonly code: number;
  readonly stderr: string;
}

/**
 * Runs pg_dump, pg_restore, tar or rsync to completion. Secrets never go on the command line (a
 * password file through the environment instead), so the arguments are safe to name in an error.
 * Exit codes in `accept` count as success (tar's 1: a file changed while it was read).
 */
export function runProgram(
  step: string,
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; accept?: readonly number[] } = {},
): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (error) =>
      reject(new BackupStepError(step, `cannot run ${file}: ${error.message}`, { cause: error })),
    );
    child.once('close', (code, signal) => {
      const text = Buffer.concat(stderr).toString().trim();
      const accepted = [0, ...(options.accept ?? [])];
      if (code !== null && accepted.includes(code)) resolve({ code, stderr: text });
      else
        reject(
          new BackupStepError(
            step,
            `${file} ${args.join(' ')} exited ${code ?? signal}${text ? `: ${text.slice(-2000)}` : ''}`,
          ),
        );
    });
  });
}
