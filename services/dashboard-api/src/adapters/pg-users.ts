/** The `users` table: who may log in, with which role. */
import { type Database, type Kysely, sql } from '@ibstack/db';

import { Role } from '../auth/roles';
import { type User, UserExistsError } from '../auth/users';

export class UserStore {
  constructor(private readonly db: Kysely<Database>) {}

  async find(username: string): Promise<User | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    if (!row) return null;
    return {
      username: row.username,
      role: Role.catch('viewer').parse(row.role),
      passwordHash: row.password_hash,
      failedLogins: row.failed_logins,
      lastLoginAt: row.last_login_at,
      validAfter: Math.floor(row.password_changed_at.getTime() / 1000),
      createdAt: row.created_at,
    };
  }

  async list(): Promise<Array<Omit<User, 'passwordHash'>>> {
    const names = await this.db.selectFrom('users').select('username').orderBy('username').execute();
    const users = await Promise.all(names.map((row) => this.find(row.username)));
    return users
      .filter((user): user is User => user !== null)
      .map(({ passwordHash: _hidden, ...user }) => user);
  }

  /** Adds a user; with `replace`, an existing one gets the new hash and role (and loses its tokens). */
  async add(
    username: string,
    passwordHash: string,
    role: Role,
    replace = false,
  ): Promise<'added' | 'replaced'> {
    const inserted = await this.db
      .insertInto('users')
      .values({ username, password_hash: passwordHash, role })
      .onConflict((conflict) => conflict.column('username').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) return 'added';
    if (!replace)
      throw new UserExistsError(`user "${username}" exists (pass --replace to set a new password)`);
    await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash, role, failed_logins: 0, password_changed_at: sql`now()` })
      .where('username', '=', username)
      .execute();
    return 'replaced';
  }

  async remove(username: string): Promise<boolean> {
    const result = await this.db.deleteFrom('users').where('username', '=', username).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async recordLogin(username: string): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ failed_logins: 0, last_login_at: sql`now()` })
      .where('username', '=', username)
      .execute();
  }

  async recordFailure(username: string): Promise<number> {
    const row = await this.db
      .updateTable('users')
      .set({ failed_logins: sql`failed_logins + 1` })
      .where('username', '=', username)
      .returning('failed_logins')
      .executeTakeFirst();
    return row?.failed_logins ?? 0;
  }
}
