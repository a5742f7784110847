/** Postgres could not be reached or refused us; the message says which URL and what to do. */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
  /** The URL, its password masked: errors are logged and printed. */
  readonly url: string;
  constructor(url: string, options: { cause?: unknown } = {}) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    const missingDatabase = (options.cause as { code?: string } | undefined)?.code === '3D000';
    super(
      missingDatabase
        ? `Postgres at ${redactUrl(url)} has no such database (${reason}). Run \`npm run migrate\` (npm start does it) to create it.`
        : `cannot reach Postgres at ${redactUrl(url)} (${reason}). Start it (docker compose up -d postgres, or apt ` +
            `install postgresql) or set DATABASE_URL.`,
      options,
    );
    this.url = redactUrl(url);
  }
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    readonly migrationName: string | undefined,
    options: { cause?: unknown } = {},
  ) {
    super(
      `migration ${migrationName ?? '(unknown)'} failed: ${String((options.cause as Error | undefined)?.message ?? options.cause)}`,
      options,
    );
  }
}

/** Hides the password of a connection URL for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
