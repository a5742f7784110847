/** `make secrets` (docker/make-secrets.sh): strong engine secrets, IB answers, mode 600, never overwrites. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { readComposeRaw, REPO } from './compose-file';

const SCRIPT = join(REPO, 'docker', 'make-secrets.sh');
const dir = mkdtempSync(join(tmpdir(), 'ibstack-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function makeSecrets(target: string, answers: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile('bash', [SCRIPT, target], { timeout: 10_000 }, (error, stdout) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout }),
    );
    child.stdin!.end(answers);
  });
}

const read = (target: string, name: string) => readFileSync(join(target, name), 'utf8').trim();

describe('make secrets', () => {
  const target = join(dir, 'secrets');

  it('writes random engine secrets and the IB answers, each file mode 600', async () => {
    const run = await makeSecrets(
      target,
      'apiuser\np4ss word\nJBSWY3DPEHPK3PXP\n123456789:AAEtelegramTOKENtelegramTOKENtelegram00\n',
    );
    expect(run.code).toBe(0);
    const password = read(target, 'postgres_password');
    expect(password).toMatch(/^[0-9a-f]{64}$/);
    expect(read(target, 'database_url')).toBe(`postgres://ibstack:${password}@postgres:5432/ibstack`);
    const jwtSecret = read(target, 'jwt_secret');
    expect(jwtSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(jwtSecret).not.toBe(password);
    expect([read(target, 'ib_username'), read(target, 'ib_password'), read(target, 'ib_totp_key')]).toEqual([
      'apiuser',
      'p4ss word',
      'JBSWY3DPEHPK3PXP',
    ]);
    expect(read(target, 'telegram_bot_token')).toBe('123456789:AAEtelegramTOKENtelegramTOKENtelegram00');
    // Alertmanager sends through the same bot, from its own copy (it runs as another uid).
    expect(read(target, 'alertmanager_telegram_bot_token')).toBe(read(target, 'telegram_bot_token'));
    const grafana = read(target, 'grafana_admin_password');
    expect(grafana).toMatch(/^[0-9a-f]{64}$/);
    expect(grafana).not.toBe(password);
    for (const name of [
      'postgres_password',
      'database_url',
      'jwt_secret',
      'ib_username',
      'ib_password',
      'ib_totp_key',
      'telegram_bot_token',
      'alertmanager_telegram_bot_token',
      'grafana_admin_password',
    ])
      expect({ name, mode: (statSync(join(target, name)).mode & 0o777).toString(8) }).toEqual({
        name,
        mode: '600',
      });
    // Never printed.
    expect(run.stdout).not.toContain(password);
    expect(run.stdout).not.toContain(jwtSecret);
    expect(run.stdout).not.toContain('p4ss');
    expect(run.stdout).not.toContain('AAEtelegram');
    expect(run.stdout).not.toContain(grafana);
  });

  it('writes a secret for every one docker-compose.yml declares', () => {
    const declared = Object.keys(readComposeRaw().secrets ?? {}).sort();
    expect(readdirSync(target).sort()).toEqual(declared);
  });

  it('keeps every file that holds a value on a second run', async () => {
    const before = read(target, 'postgres_password');
    const jwtBefore = read(target, 'jwt_secret');
    const grafana = read(target, 'grafana_admin_password');
    writeFileSync(join(target, 'alertmanager_telegram_bot_token'), '777:AAEalertsBOTalertsBOT\n');
    const run = await makeSecrets(target, 'other\nother\nother\n');
    expect(run.code).toBe(0);
    expect(read(target, 'postgres_password')).toBe(before);
    expect(read(target, 'jwt_secret')).toBe(jwtBefore);
    expect(read(target, 'grafana_admin_password')).toBe(grafana);
    // Another bot for alerts stays.
    expect(read(target, 'alertmanager_telegram_bot_token')).toBe('777:AAEalertsBOTalertsBOT');
    expect(read(target, 'ib_username')).toBe('apiuser');
    expect(run.stdout).toContain('kept ib_totp_key');
  });

  it('leaves unanswered IB secrets empty and says so; a new Postgres password gives a new URL', async () => {
    const other = join(dir, 'other');
    const first = await makeSecrets(other, '');
    expect(first.stdout).toContain('left ib_username empty');
    expect(first.stdout).toContain('left telegram_bot_token empty');
    expect(first.stdout).toContain('left alertmanager_telegram_bot_token empty');
    expect(read(other, 'alertmanager_telegram_bot_token')).toBe('');
    // A bot token written later reaches Alertmanager's copy on the next run.
    writeFileSync(join(other, 'telegram_bot_token'), '424242:AAElater\n');
    expect(read(other, 'ib_username')).toBe('');
    writeFileSync(join(other, 'database_url'), '');
    const second = await makeSecrets(other, '');
    expect(read(other, 'database_url')).toContain(read(other, 'postgres_password'));
    expect(read(other, 'alertmanager_telegram_bot_token')).toBe('424242:AAElater');
    expect(second.stdout).not.toContain('AAElater');
  });
});
