/** Who may log in, with which role (stored in `users` by adapters/pg-users.ts), and the per-request check. */
import type { UserStore } from '../adapters/pg-users';
import type { Role } from './roles';

export interface User {
  username: string;
  role: Role;
  passwordHash: string;
  failedLogins: number;
  lastLoginAt: Date | null;
  /** Tokens issued before this (seconds since the epoch) are refused. */
  validAfter: number;
  createdAt: Date;
}

/** Letters, digits, `.`, `_`, `-` and `@`: safe in logs, audit entries and subjects alike. */
export const USERNAME_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;

export class UserExistsError extends Error {
  override readonly name = 'UserExistsError';
}

/**
 * Each request checks that its token's user still exists, has the same role and has not changed its
 * password since; the answer is kept a few seconds so a burst of requests costs one query.
 */
export class UserCache {
  private readonly entries = new Map<string, { user: User | null; at: number }>();

  constructor(
    private readonly store: UserStore,
    private readonly ttlMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(username: string): Promise<User | null> {
    const cached = this.entries.get(username);
    if (cached && this.now() - cached.at < this.ttlMs) return cached.user;
    const user = await this.store.find(username);
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(username, { user, at: this.now() });
    return user;
  }

  forget(username: string): void {
    this.entries.delete(username);
  }
}
