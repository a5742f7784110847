import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { checkTotpFile, parseBase32Secret, totpAt } from '../src/totp';

/** RFC 6238 appendix B: the SHA-1 secret "12345678901234567890", 8 digits, 30-second steps. */
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const RFC_VECTORS: ReadonlyArray<[seconds: number, code: string]> = [
  [59, '94287082'],
  [1_111_111_109, '07081804'],
  [1_111_111_111, '14050471'],
  [1_234_567_890, '89005924'],
  [2_000_000_000, '69279037'],
  [20_000_000_000, '65353130'],
];

const dir = mkdtempSync(join(tmpdir(), 'ibstack-totp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileWith(name: string, contents: string): string {
  const file = join(dir, name);
  writeFileSync(file, contents);
  return file;
}

describe('totp', () => {
  it.each(RFC_VECTORS)('gives the RFC 6238 SHA-1 code at %i s', (seconds, code) => {
    expect(totpAt(RFC_SECRET, seconds * 1000, { algorithm: 'SHA1', digits: 8, period: 30 }).code).toBe(code);
  });

  it('agrees with oathtool, which IBGA types the code from', () => {
    const at = Date.UTC(2026, 11, 3, 14, 30, 7);
    const expected = execFileSync(
      'oathtool',
      [
        '--totp',
        '--base32',
        '--now',
        new Date(at)
          .toISOString()
          .replace('T', ' ')
          .replace(/\.\d+Z$/, ' UTC'),
        'JBSWY3DPEHPK3PXP',
      ],
      { encoding: 'utf8' },
    ).trim();
    const now = totpAt('JBSWY3DPEHPK3PXP', at);
    expect([now.code, now.secondsLeft]).toEqual([expected, 23]);
  });

  it('counts the seconds left in the 30-second step', () => {
    expect(totpAt(RFC_SECRET, 60_000).secondsLeft).toBe(30);
    expect(totpAt(RFC_SECRET, 89_999).secondsLeft).toBe(1);
    expect(totpAt(RFC_SECRET, 60_000).nextCode).toBe(totpAt(RFC_SECRET, 90_000).code);
  });

  it('accepts secrets as authenticator exports write them: grouped, lower case, padded', () => {
    expect(parseBase32Secret('jbsw y3dp ehpk 3pxp\n')).toBe('JBSWY3DPEHPK3PXP');
    expect(parseBase32Secret('JBSW-Y3DP-EHPK-3PXP====')).toBe('JBSWY3DPEHPK3PXP');
  });

  it.each([
    ['', /is empty/],
    ['JBSWY3DPEHPK3PX1', /is not base32: it contains "1"/],
    ['JBSWY3DP!', /is not base32: it contains "!"/],
    ['JBSWY3DP', /is too short for a TOTP secret \(8 characters/],
  ])('refuses %j', (text, message) => {
    expect(() => parseBase32Secret(text)).toThrow(message);
  });

  it('names the file in every problem, and reads "none" as no TOTP', () => {
    const missing = checkTotpFile(join(dir, 'missing'), 0);
    expect(missing.kind === 'problem' && missing.message).toMatch(
      /\/missing is missing: write it with make secrets/,
    );
    const bad = fileWith('bad', 'not_a_secret\n');
    expect(checkTotpFile(bad, 0)).toEqual({
      kind: 'problem',
      message: `${bad} is not base32: it contains "_" (base32 uses A–Z and 2–7)`,
    });
    expect(checkTotpFile(fileWith('none', 'none\n'), 0)).toEqual({ kind: 'none' });
  });

  describe('npm run totp -- check', () => {
    const cli = (file: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', join(__dirname, '..', 'src', 'cli', 'totp.ts'), 'check', '--file', file],
          { timeout: 20_000 },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
        );
      });

    it('prints the current code and the seconds left for a valid secret', async () => {
      const result = await cli(fileWith('good', 'JBSWY3DPEHPK3PXP\n'));
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/current code: \d{6} {2}\(\d{1,2} s left; next: \d{6}\)/);
    });

    it('exits 78 naming the file for an invalid secret', async () => {
      const file = fileWith('invalid', 'JBSWY3DP0\n');
      const result = await cli(file);
      expect(result.code).toBe(78);
      expect(result.stderr).toBe(`totp: ${file} is not base32: it contains "0" (base32 uses A–Z and 2–7)\n`);
    });
  });
});
