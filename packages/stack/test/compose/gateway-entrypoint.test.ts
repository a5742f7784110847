/**
 * The gateway container's entrypoint (docker/gateway/entrypoint.sh), run here with a stand-in for IBGA's
 * manager that reports what it was given: who it runs as, its environment, and where its output went.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { eventually } from '@ibstack/test-kit';

import { REPO } from './compose-file';

const ENTRYPOINT = join(REPO, 'docker', 'gateway', 'entrypoint.sh');
const root = mkdtempSync(join(tmpdir(), 'ibstack-gateway-entry-'));
chmodSync(root, 0o755); // the stand-in runs as `nobody`
let counter = 0;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  logFile: string;
}

/** One run in a fresh folder: secrets written as given (undefined = no file), the rest from `env`. */
function runEntrypoint(
  secrets: Record<string, string | undefined>,
  env: Record<string, string> = {},
): Promise<Run> {
  const dir = join(root, String(counter++));
  const secretsDir = join(dir, 'secrets');
  mkdirSync(secretsDir, { recursive: true });
  chmodSync(dir, 0o755);
  for (const [name, value] of Object.entries(secrets))
    if (value !== undefined) writeFileSync(join(secretsDir, name), value, { mode: 0o600 });
  const manager = join(dir, 'manager.sh');
  writeFileSync(
    manager,
    [
      '#!/usr/bin/env bash',
      'echo "uid=$(id -u) home=$HOME"',
      'echo "IB_USERNAME=${IB_USERNAME:-} IB_PASSWORD=${IB_PASSWORD:-} TOTP_KEY=${TOTP_KEY:-<unset>}"',
      'echo "!!! IB Gateway is waiting for two-factor authentication !!!"',
    ].join('\n'),
    { mode: 0o755 },
  );
  const logFile = join(dir, 'log', 'ibga.log');
  return new Promise((resolve) => {
    execFile(
      'bash',
      [ENTRYPOINT],
      {
        env: {
          PATH: process.env.PATH,
          IBSTACK_SECRETS_DIR: secretsDir,
          IBGA_MANAGER: manager,
          IBGA_USER: 'nobody',
          IBGA_LOG_FILE: logFile,
          TRADING_MODE: 'paper',
          IB_LOGINTYPE: 'Paper Trading',
          IB_LOGINTAB: 'IB API',
          IB_TIMEZONE: 'America/New York',
          GATEWAY_TIME_ZONE: 'America/New_York',
          IB_LOGOFF: '11:55 PM',
          ...env,
        },
        timeout: 15_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr, logFile }),
    );
  });
}

const GOOD = { ib_username: 'apiuser\n', ib_password: 'p4ss word\n', ib_totp_key: 'JBSWY3DPEHPK3PXP\n' };

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('gateway entrypoint', () => {
  it('hands the secrets to IBGA alone, as its own user, and copies its log to the volume file', async () => {
    const run = await runEntrypoint(GOOD);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const nobody = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((line) => line.startsWith('nobody:'))!
      .split(':');
    expect(run.stdout).toContain(`uid=${nobody[2]} home=${nobody[5]}`);
    expect(run.stdout).toContain('IB_USERNAME=apiuser IB_PASSWORD=p4ss word TOTP_KEY=JBSWY3DPEHPK3PXP');
    await eventually(() =>
      expect(readFileSync(run.logFile, 'utf8')).toContain('waiting for two-factor authentication'),
    );
  });

  it('runs without a TOTP when the file says none (paper logins, push approval)', async () => {
    const run = await runEntrypoint({ ...GOOD, ib_totp_key: 'none\n' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('TOTP_KEY=<unset>');
  });

  it.each([
    [
      'a missing secret file',
      { ...GOOD, ib_password: undefined },
      {},
      /secret file .*\/ib_password is missing/,
    ],
    ['an empty secret file', { ...GOOD, ib_username: ' \n' }, {}, /secret file .*\/ib_username is empty/],
    [
      'a TOTP secret that is not base32',
      { ...GOOD, ib_totp_key: 'not-base32!\n' },
      {},
      /ib_totp_key is not a base32 TOTP secret/,
    ],
    [
      'a paper login under live mode',
      GOOD,
      { TRADING_MODE: 'live' },
      /IB_LOGINTYPE "Paper Trading" disagrees with TRADING_MODE=live \(use "Live Trading"/,
    ],
    [
      'a live login under paper mode',
      GOOD,
      { IB_LOGINTYPE: 'Live Trading' },
      /IB_LOGINTYPE "Live Trading" disagrees with TRADING_MODE=paper/,
    ],
    ['a login type IBGA does not accept', GOOD, { IB_LOGINTYPE: 'paper' }, /IB_LOGINTYPE must be exactly/],
    ['an unknown trading mode', GOOD, { TRADING_MODE: 'demo' }, /TRADING_MODE must be paper or live/],
    [
      "a gateway time zone execution does not read the gateway's times in",
      GOOD,
      { GATEWAY_TIME_ZONE: 'UTC' },
      /IB_TIMEZONE "America\/New York" disagrees with GATEWAY_TIME_ZONE=UTC .*set GATEWAY_TIME_ZONE=America\/New_York/,
    ],
    [
      'no time zone for execution',
      GOOD,
      { GATEWAY_TIME_ZONE: '' },
      /disagrees with GATEWAY_TIME_ZONE=<unset>/,
    ],
  ] as const)(
    'stops with 78 and names the problem on %s, before IBGA starts',
    async (_case, secrets, env, message) => {
      const run = await runEntrypoint(secrets, env);
      expect(run.code).toBe(78);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).not.toContain('uid=');
      expect(existsSync(run.logFile)).toBe(false);
    },
  );
});
