import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'passphrase',
  'pw',
  'token',
  'secret',
  'totp',
  'authorization',
  'cookie',
  'credential',
  'credentials',
  'apikey',
]);
const KEY_QUALIFIERS = new Set([
  'api',
  'private',
  'secret',
  'totp',
  'access',
  'signing',
  'encryption',
  'auth',
  'bot',
  'session',
]);

function words(fieldName: string): string[] {
  return fieldName
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_.-]+/)
    .filter(Boolean)
    .map((word) => word.toLowerCase());
}

/**
 * Whether a field's value must never be logged: names with a word like password, token, secret, totp,
 * authorization or credential (`IB_PASSWORD`, `botToken`), a bare `key`, or a qualified key (`apiKey`,
 * `TOTP_KEY`, `private_key`). An `instrumentKey` or `kvKey` is not a secret and stays readable.
 */
export function isSecretField(fieldName: string): boolean {
  const parts = words(fieldName);
  if (parts.some((word) => SECRET_WORDS.has(word))) return true;
  const last = parts.at(-1);
  if (last !== 'key') return false;
  if (parts.length === 1) return true;
  return KEY_QUALIFIERS.has(parts.at(-2) ?? '');
}

export const REDACTED = '[redacted]';

/** `scheme://user:password@host` anywhere in a text. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi;

/**
 * Masks the password of every URL in a text (`postgres://app:***@db/ibstack`): connection URLs end up in
 * error messages, stacks and config dumps, where no field name tells that they hold a secret.
 */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1***@');
}

function scrub(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return value.includes('://') ? redactUrlCredentials(value) : value;
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (seen.has(value)) return value;
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1, seen));
  // An error is logged as its standard serialization (type, message, stack, own fields, cause), scrubbed.
  if (value instanceof Error) return scrub(pino.stdSerializers.err(value), depth + 1, seen);
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = isSecretField(key) ? REDACTED : scrub(inner, depth + 1, seen);
  }
  return out;
}

/** Removes secret-named fields from any object before it is logged or printed. */
export function redactSecrets<T>(value: T): T {
  return scrub(value, 0, new WeakSet()) as T;
}

export interface LoggerSettings {
  service: string;
  level?: string;
  /** For tests: where lines go. Defaults to stdout. */
  destination?: DestinationStream;
}

/**
 * The one logger factory. JSON lines with `service`, ISO time and secret-named fields replaced by
 * `[redacted]` at every depth (pino's path-based `redact` only covers listed paths, and a config dump or
 * an error's `cause` can nest a secret anywhere).
 */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: { service: settings.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => redactSecrets(object),
    },
    // `formatters.log` has already serialized (and scrubbed) errors; keep pino from serializing them twice.
    serializers: { err: (value: unknown) => value },
    hooks: {
      // The message text too: `could not start: cannot reach Postgres at postgres://u:pw@…`.
      logMethod(args, method) {
        const scrubbed = args.map((arg: unknown) =>
          typeof arg === 'string' && arg.includes('://') ? redactUrlCredentials(arg) : arg,
        ) as Parameters<typeof method>;
        // `log.error(err)` alone takes the error's own message as the line's message.
        const [first] = args as unknown[];
        if (args.length === 1 && first instanceof Error)
          (scrubbed as unknown[]).push(redactUrlCredentials(first.message));
        method.apply(this, scrubbed);
      },
    },
    // Path-based redaction as a second line for the well-known places.
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        '*.headers.authorization',
      ],
      censor: REDACTED,
    },
  };
  const logger = settings.destination ? pino(options, settings.destination) : pino(options);
  // Child bindings bypass `formatters.log`; scrub them where they enter. Children are created with
  // Object.create(parent), so they inherit this override.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- re-bound to each child below
  const pinoChild = logger.child;
  logger.child = function child(this: Logger, bindings, childOptions) {
    return pinoChild.call(this, redactSecrets(bindings), childOptions);
  } as typeof logger.child;
  return logger;
}
