import { z } from 'zod';

/** `true/false/1/0/yes/no/on/off`, case-insensitive; anything else is an error rather than `false`. */
export const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', 'TRUE', 'FALSE', 'YES', 'NO', 'ON', 'OFF'], {
    error: 'must be true or false',
  })
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value.toLowerCase()));

export const port = z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65_535);

/** A whole number of milliseconds, at least `minimum`; `fallback` when unset. */
export const milliseconds = (fallback: number, minimum = 1) =>
  z.coerce.number({ error: 'must be a number of milliseconds' }).int().min(minimum).default(fallback);

/** A JSON setting validated against a schema, each problem named with its path; undefined when unset. */
export const jsonSetting = <S extends z.ZodType>(schema: S, example: string) =>
  z
    .string()
    .optional()
    .transform((value, ctx): z.infer<S> | undefined => {
      if (!value) return undefined;
      let json: unknown;
      try {
        json = JSON.parse(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: `must be JSON, e.g. ${example}` });
        return z.NEVER;
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        for (const issue of parsed.error.issues)
          ctx.addIssue({ code: 'custom', message: `${issue.path.join('.') || '(value)'}: ${issue.message}` });
        return z.NEVER;
      }
      return parsed.data;
    });

const urlWithScheme = (schemes: readonly string[]) =>
  z.string().refine(
    (value) => {
      try {
        return schemes.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${schemes.map((s) => `${s}//`).join(' or ')}`,
  );

/** Defaults work on a developer machine with the local Postgres and NATS. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/ibstack';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** Variables every service shares. Compose a service schema with `commonEnv.extend({...})`. */
export const commonEnv = z.object({
  /** @default "info" */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** @default postgres://postgres@127.0.0.1:5432/ibstack */
  DATABASE_URL: urlWithScheme(['postgres:', 'postgresql:']).default(DEFAULT_DATABASE_URL),
  /** Comma-separated NATS servers. @default nats://127.0.0.1:4222 */
  NATS_URL: z
    .string()
    .default(DEFAULT_NATS_URL)
    .refine(
      (value) => value.split(',').every((part) => /^(nats|tls|ws|wss):\/\/[^\s]+$/.test(part.trim())),
      'must be one or more nats://host:port URLs separated by commas',
    ),
  /**
   * Replicas of every JetStream stream and KV bucket: 1 on a single NATS server, 3 in the three-node
   * failover cluster (infra/failover). More replicas than servers cannot be placed. @default 1
   */
  NATS_REPLICAS: z.coerce
    .number({ error: 'must be 1, 3 or 5' })
    .int()
    .refine((value) => [1, 3, 5].includes(value), 'must be 1, 3 or 5 (an odd number, for a Raft quorum)')
    .default(1),
  /**
   * Prefix for every stream, subject and KV bucket, so tests and parallel stacks stay apart. Empty in
   * production. @default ""
   */
  BUS_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9_]*$/, 'must be lowercase letters, digits or "_"')
    .default(''),
  /** Port of /healthz, /readyz and /metrics. 0 picks a free port. */
  HTTP_PORT: port,
});

/** Connection to an IB Gateway (ours or IBGA). */
export const gatewayEnv = z.object({
  /** @default 127.0.0.1 */
  IB_HOST: z.string().min(1).default('127.0.0.1'),
  /** 4002 is IB Gateway's paper port, 4001 its live port. @default 4002 */
  IB_PORT: port.default(4002),
  IB_CLIENT_ID: z.coerce.number({ error: 'must be an integer' }).int().min(0).max(2_147_483_647),
});

/**
 * Where services answer `/readyz` and `/metrics`, as `name=http://host:port,…` (the status screens under
 * compose, where each service is its own host). Empty means none given (null): the caller's default.
 */
export const serviceUrls = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const services: Array<{ name: string; url: string }> = [];
    for (const part of value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean)) {
      const [name, url] = part.split('=').map((item) => item.trim());
      if (!name || !url || !/^https?:\/\/[^\s]+$/.test(url)) {
        ctx.addIssue({ code: 'custom', message: `"${part}" is not <service>=http://host:port` });
        continue;
      }
      services.push({ name, url: url.replace(/\/+$/, '') });
    }
    return services.length > 0 ? services : null;
  });
