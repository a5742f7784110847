/**
 * Logins: argon2id verification (the same work for an unknown name, so names cannot be probed by
 * timing), failed attempts counted per user and audited with the client address, and on success a
 * token in the body and in an httpOnly, SameSite=Strict cookie for the page.
 */
import type { Request, Response } from 'express';

import { ApiError, ErrorCode } from '../api/errors';
import type { DashboardMetrics } from '../metrics';
import { decoyHash, verifyPassword } from './passwords';
import type { Role } from './roles';
import type { TokenIssuer } from './tokens';
import type { UserStore } from '../adapters/pg-users';
import type { UserCache } from './users';

export const TOKEN_COOKIE = 'ibstack_token';

export interface LoginDependencies {
  users: UserStore;
  cache: UserCache;
  tokens: TokenIssuer;
  metrics: DashboardMetrics;
  cookieSecure: boolean;
  audit: (actor: string, action: string, detail: Record<string, unknown>) => Promise<void>;
}

export class LoginService {
  constructor(private readonly deps: LoginDependencies) {}

  async login(username: string, password: string, req: Request, res: Response) {
    const { users, metrics } = this.deps;
    const user = await users.find(username);
    const valid = await verifyPassword(user?.passwordHash ?? (await decoyHash()), password);
    if (!user || !valid) {
      metrics.logins.inc({ result: 'failure' });
      const failures = user ? await users.recordFailure(username) : 0;
      await this.deps.audit(username, 'login_failed', {
        address: req.ip ?? 'unknown',
        knownUser: user !== null,
        ...(user ? { consecutiveFailures: failures } : {}),
      });
      throw new ApiError(401, ErrorCode.invalidCredentials, 'wrong user name or password');
    }
    metrics.logins.inc({ result: 'success' });
    await users.recordLogin(username);
    this.deps.cache.forget(username);
    await this.deps.audit(username, 'login', { address: req.ip ?? 'unknown' });
    return this.issue(user.username, user.role, res);
  }

  /** A new token for a user whose token is still valid, so the page stays logged in while it is open. */
  async issue(username: string, role: Role, res: Response) {
    const { tokens } = this.deps;
    const { token, expiresAt } = await tokens.issue(username, role);
    res.cookie(TOKEN_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.deps.cookieSecure,
      path: '/',
      maxAge: tokens.ttlSeconds * 1000,
    });
    return {
      body: {
        token,
        expiresAt: new Date(expiresAt * 1000).toISOString(),
        user: { username, role },
      },
    };
  }

  clearCookie(res: Response): void {
    res.clearCookie(TOKEN_COOKIE, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.deps.cookieSecure,
      path: '/',
    });
  }
}

/** The token of a request: `Authorization: Bearer …` first, then the page's cookie. */
export function tokenOf(headers: {
  authorization?: string | undefined;
  cookie?: string | undefined;
}): string | null {
  const authorization = headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    return match ? match[1]! : null;
  }
  for (const part of (headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === TOKEN_COOKIE) return decodeURIComponent(value.join('='));
  }
  return null;
}
