/**
 * The TOTP check behind `npm run totp -- check` / `make totp`: reads the gateway's TOTP secret file,
 * validates it as IBGA (oathtool) will use it, and shows the code an authenticator app must show now.
 * TOTP itself is otpauth's (RFC 6238; tested with the RFC's vectors).
 */
import { readFileSync } from 'node:fs';

import { Secret, TOTP } from 'otpauth';

/** IBKR's Mobile Authenticator: SHA-1, 6 digits, 30-second steps (RFC 6238 defaults). */
export const IBKR_TOTP = { algorithm: 'SHA1', digits: 6, period: 30 } as const;

/** What the file may say instead of a secret: the login needs no TOTP (paper, or push approval). */
export const NO_TOTP = 'none';

export class TotpSecretError extends Error {
  override readonly name = 'TotpSecretError';
}

/**
 * A base32 secret as authenticator exports write it: any case, spaces or dashes between groups, optional
 * `=` padding. At least 16 characters (80 bits), as short secrets are typos rather than keys.
 */
export function parseBase32Secret(text: string): string {
  const secret = text.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase();
  if (secret === '') throw new TotpSecretError('is empty');
  const bad = [...new Set(secret.replace(/[A-Z2-7]/g, ''))];
  if (bad.length > 0)
    throw new TotpSecretError(
      `is not base32: it contains ${bad.map((character) => `"${character}"`).join(', ')} (base32 uses A–Z and 2–7)`,
    );
  if (secret.length < 16)
    throw new TotpSecretError(`is too short for a TOTP secret (${secret.length} characters, at least 16)`);
  return secret;
}

export interface TotpNow {
  code: string;
  /** Seconds until the code changes. */
  secondsLeft: number;
  /** The code after this one, for a user who is about to be late. */
  nextCode: string;
}

export function totpAt(
  base32Secret: string,
  timestampMs: number,
  options: { algorithm?: string; digits?: number; period?: number } = IBKR_TOTP,
): TotpNow {
  const totp = new TOTP({ ...IBKR_TOTP, ...options, secret: Secret.fromBase32(base32Secret) });
  const period = totp.period;
  const secondsLeft = period - (Math.floor(timestampMs / 1000) % period);
  return {
    code: totp.generate({ timestamp: timestampMs }),
    secondsLeft,
    nextCode: totp.generate({ timestamp: timestampMs + period * 1000 }),
  };
}

export type TotpFileCheck =
  { kind: 'secret'; secret: string; now: TotpNow } | { kind: 'none' } | { kind: 'problem'; message: string };

/** Reads and checks the secret file; a problem names the file and says what is wrong. */
export function checkTotpFile(file: string, nowMs: number): TotpFileCheck {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code ?? String(error);
    return {
      kind: 'problem',
      message:
        code === 'ENOENT'
          ? `${file} is missing: write it with make secrets (the base32 secret of your Mobile Authenticator)`
          : `${file} cannot be read (${code})`,
    };
  }
  if (text.trim().toLowerCase() === NO_TOTP) return { kind: 'none' };
  try {
    const secret = parseBase32Secret(text);
    return { kind: 'secret', secret, now: totpAt(secret, nowMs) };
  } catch (error) {
    if (error instanceof TotpSecretError) return { kind: 'problem', message: `${file} ${error.message}` };
    throw error;
  }
}
