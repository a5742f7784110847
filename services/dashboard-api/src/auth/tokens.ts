/**
 * Access tokens: HS256 JWTs from `jose` with the user name as `sub`, the role, an id, and a short
 * lifetime. The same token works as a bearer header (own front ends), in the httpOnly cookie (the page)
 * and in the WebSocket's authenticate message.
 */
import { errors, jwtVerify, SignJWT } from 'jose';

import { Role } from './roles';

const ISSUER = 'ibstack-dashboard';
const AUDIENCE = 'ibstack';

export interface TokenClaims {
  username: string;
  role: Role;
  /** Seconds since the epoch. */
  issuedAt: number;
  expiresAt: number;
}

export type TokenProblem = 'expired' | 'invalid';

export class TokenIssuer {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async issue(username: string, role: Role): Promise<{ token: string; expiresAt: number }> {
    const issuedAt = Math.floor(this.now() / 1000);
    const expiresAt = issuedAt + this.ttlSeconds;
    const token = await new SignJWT({ role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(username)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .setJti(crypto.randomUUID())
      .sign(this.key);
    return { token, expiresAt };
  }

  async verify(
    token: string,
  ): Promise<{ ok: true; claims: TokenClaims } | { ok: false; problem: TokenProblem }> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        currentDate: new Date(this.now()),
      });
      const role = Role.safeParse(payload.role);
      if (!payload.sub || !role.success || payload.iat === undefined || payload.exp === undefined)
        return { ok: false, problem: 'invalid' };
      return {
        ok: true,
        claims: { username: payload.sub, role: role.data, issuedAt: payload.iat, expiresAt: payload.exp },
      };
    } catch (error) {
      return { ok: false, problem: error instanceof errors.JWTExpired ? 'expired' : 'invalid' };
    }
  }
}
