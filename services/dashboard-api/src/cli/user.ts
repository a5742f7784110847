/**
 * npm run user -- add <name> [--role viewer|operator] [--password-file <file>] [--replace]
 * npm run user -- remove <name>
 * npm run user -- list
 *
 * A password is never an argument (it would sit in the shell history and in `ps`): it is prompted for
 * without echo, or read from a file, or from standard input when that is not a terminal.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

import { commonEnv, loadConfigOrExit } from '@ibstack/config';
import { connectDatabase } from '@ibstack/db';
import { Command, InvalidArgumentError, Option } from 'commander';

import { hashPassword, MIN_PASSWORD_LENGTH } from '../auth/passwords';
import { Role } from '../auth/roles';
import { UserStore } from '../adapters/pg-users';
import { USERNAME_PATTERN, UserExistsError } from '../auth/users';

const env = loadConfigOrExit('user', commonEnv.pick({ DATABASE_URL: true }), process.env);

function prompt(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (!muted) process.stderr.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function readPassword(file: string | undefined): Promise<string> {
  if (file) return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  if (!process.stdin.isTTY) return (await readStdin()).replace(/\r?\n$/, '');
  const first = await prompt('password: ');
  const second = await prompt('again: ');
  if (first !== second) throw new Error('the two passwords differ');
  return first;
}

function username(value: string): string {
  if (!USERNAME_PATTERN.test(value))
    throw new InvalidArgumentError('1–64 letters, digits, ".", "_", "@" or "-"');
  return value;
}

async function withUsers<T>(work: (users: UserStore) => Promise<T>): Promise<T> {
  const database = await connectDatabase(env.DATABASE_URL, { applicationName: 'user-cli' });
  try {
    return await work(new UserStore(database.db));
  } finally {
    await database.close();
  }
}

const program = new Command('user').description('dashboard users').showHelpAfterError();

program
  .command('add')
  .description('add a user (the password is prompted for, or read from --password-file or standard input)')
  .argument('<name>', 'user name', username)
  .addOption(
    new Option('--role <role>', 'viewer reads; operator also trades, halts and resumes')
      .choices(Role.options)
      .default('viewer'),
  )
  .option('--password-file <file>', 'read the password from this file')
  .option('--replace', 'set a new password and role for an existing user (its tokens stop working)')
  .action(async (name: string, options: { role: Role; passwordFile?: string; replace?: boolean }) => {
    const password = await readPassword(options.passwordFile);
    if (password.length < MIN_PASSWORD_LENGTH)
      throw new Error(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
    const hash = await hashPassword(password);
    const result = await withUsers((users) => users.add(name, hash, options.role, options.replace));
    process.stdout.write(`${result} ${name} (${options.role})\n`);
  });

program
  .command('remove')
  .description('remove a user (its tokens stop working within seconds)')
  .argument('<name>', 'user name', username)
  .action(async (name: string) => {
    const removed = await withUsers((users) => users.remove(name));
    if (!removed) throw new Error(`no user ${name}`);
    process.stdout.write(`removed ${name}\n`);
  });

program
  .command('list')
  .description('list the users')
  .action(async () => {
    const list = await withUsers((users) => users.list());
    if (list.length === 0) process.stdout.write('no users yet: npm run user -- add <name> --role operator\n');
    for (const user of list)
      process.stdout.write(
        `${user.username.padEnd(24)} ${user.role.padEnd(9)} last login ${user.lastLoginAt?.toISOString() ?? 'never'}` +
          `${user.failedLogins > 0 ? `, ${user.failedLogins} failed since` : ''}\n`,
      );
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(
    `user: ${error instanceof UserExistsError || error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
