import { commonEnv, port } from '@ibstack/config';
import { z } from 'zod';

/** `name=/path,name=/path`: directories saved with every backup and put back by a restore. */
const stateDirectories = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const entries: Array<{ name: string; path: string }> = [];
    for (const part of value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean)) {
      const match = /^([a-z][a-z0-9-]*)=(\/.*)$/.exec(part);
      if (!match) {
        ctx.addIssue({ code: 'custom', message: `"${part}" is not name=/absolute/path (name: a-z, 0-9, -)` });
        continue;
      }
      if (entries.some((entry) => entry.name === match[1]))
        ctx.addIssue({ code: 'custom', message: `the name "${match[1]}" is given twice` });
      entries.push({ name: match[1]!, path: match[2]!.replace(/\/+$/, '') || '/' });
    }
    return entries;
  });

/** The backup service's environment (services/backup/README.md). */
export const backupEnv = commonEnv.pick({ LOG_LEVEL: true, DATABASE_URL: true }).extend({
  /** /healthz, /readyz, /metrics. @default 9404 */
  HTTP_PORT: port.default(9404),
  /** Where backups are kept, one directory each. @default /var/lib/ibstack/backups */
  BACKUP_DIR: z.string().startsWith('/', 'must be an absolute path').default('/var/lib/ibstack/backups'),
  /** How many good backups to keep; older ones are deleted after each good one. @default 10 */
  BACKUP_KEEP: z.coerce.number({ error: 'must be a whole number' }).int().min(1).default(10),
  /** Minutes between scheduled backups (a backup before each deploy comes on top). @default 360 */
  BACKUP_INTERVAL_MINUTES: z.coerce.number({ error: 'must be a number of minutes' }).min(1).default(360),
  /**
   * Directories saved with each backup as name=/path pairs: the simulated gateway's account and the IB
   * Gateway's settings. One that does not exist is skipped and named in the manifest. @default ""
   */
  BACKUP_STATE_DIRS: stateDirectories,
  /**
   * rsync destination on the standby host (`ibstack@10.44.0.2:/opt/ibstack/backups-from-primary`),
   * reached over WireGuard; after each good backup the backup directory is mirrored there. @default ""
   */
  BACKUP_STANDBY_TARGET: z
    .string()
    .regex(/^([a-z_][a-z0-9_-]*@)?[A-Za-z0-9.:-]+:\/\S*$/, 'must be user@host:/path')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  /** SSH private key for the standby copy (a secret file). */
  BACKUP_STANDBY_SSH_KEY_FILE: z.string().optional(),
  /** known_hosts with the standby's host key: the copy never trusts a key it has not seen. */
  BACKUP_STANDBY_KNOWN_HOSTS_FILE: z.string().optional(),
  /** SSH port of the standby. @default 22 */
  BACKUP_STANDBY_SSH_PORT: port.default(22),
});
export type BackupEnv = z.infer<typeof backupEnv>;

/** A standby target needs its key and known_hosts; neither means anything without a target. */
export function standbyCheck(env: Readonly<Record<string, string | undefined>>): string[] {
  const target = env.BACKUP_STANDBY_TARGET;
  if (!target) return [];
  return ['BACKUP_STANDBY_SSH_KEY_FILE', 'BACKUP_STANDBY_KNOWN_HOSTS_FILE']
    .filter((name) => !env[name])
    .map((name) => `${name}: is required when BACKUP_STANDBY_TARGET is set`);
}
