/**
 * `npm run totp -- check [--file secrets/ib_totp_key]` (and `make totp`): before the gateway's first login,
 * shows the code the TOTP secret gives now and the seconds it has left, to compare with the authenticator
 * app. Exit 0 when the secret is valid (or `none`), 78 (configuration error) when it is not.
 */
import { join } from 'node:path';

import { Command } from 'commander';

import { REPO_ROOT } from '../config';
import { checkTotpFile } from '../totp';

const EX_CONFIG = 78;

const program = new Command().name('totp').description('Check the TOTP secret the IBGA gateway logs in with');

program
  .command('check')
  .description('validate the base32 secret and print the current code and the seconds left')
  .option('--file <path>', 'the secret file', join(REPO_ROOT, 'secrets', 'ib_totp_key'))
  .action((options: { file: string }) => {
    const result = checkTotpFile(options.file, Date.now());
    if (result.kind === 'problem') {
      process.stderr.write(`totp: ${result.message}\n`);
      process.exit(EX_CONFIG);
    }
    if (result.kind === 'none') {
      process.stdout.write(
        `${options.file} says "none": the gateway logs in without a TOTP (paper, or approval on IBKR Mobile)\n`,
      );
      return;
    }
    const { code, secondsLeft, nextCode } = result.now;
    process.stdout.write(
      `valid base32 secret (${result.secret.length} characters) in ${options.file}\n` +
        `current code: ${code}  (${secondsLeft} s left; next: ${nextCode})\n` +
        'It must match the code your authenticator app shows for IBKR now. If it does not, the secret is\n' +
        "not the one the app was set up with, or this machine's clock is off (check: timedatectl).\n",
    );
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`totp: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
