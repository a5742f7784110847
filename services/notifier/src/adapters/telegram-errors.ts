import { GrammyError, HttpError } from 'grammy';

export interface TelegramFailure {
  /** Telegram will never take this message (403: blocked or removed from the chat; 400: malformed). */
  permanent: boolean;
  reason:
    'forbidden' | 'bad_request' | 'rate_limited' | 'unauthorized' | 'server_error' | 'network' | 'other';
  /** Safe to log: never the request URL, which holds the token. */
  description: string;
  retryAfterSeconds?: number;
}

/**
 * What a failed Bot API call means for a notification. grammY's HttpError wraps the fetch error, whose
 * message names the URL and with it the bot token; only grammY's own message is kept.
 */
export function classifyTelegramError(error: unknown): TelegramFailure {
  if (error instanceof GrammyError) {
    const description = `${error.method}: ${error.error_code} ${error.description}`;
    if (error.error_code === 403) return { permanent: true, reason: 'forbidden', description };
    if (error.error_code === 400) return { permanent: true, reason: 'bad_request', description };
    if (error.error_code === 429)
      return {
        permanent: false,
        reason: 'rate_limited',
        description,
        ...(error.parameters.retry_after !== undefined
          ? { retryAfterSeconds: error.parameters.retry_after }
          : {}),
      };
    // 401: the token was revoked; fixing it and restarting delivers what waits, so keep it.
    if (error.error_code === 401) return { permanent: false, reason: 'unauthorized', description };
    if (error.error_code >= 500) return { permanent: false, reason: 'server_error', description };
    return { permanent: false, reason: 'other', description };
  }
  if (error instanceof HttpError) return { permanent: false, reason: 'network', description: error.message };
  return {
    permanent: false,
    reason: 'other',
    description: error instanceof Error ? error.message : String(error),
  };
}

/** An error's message with the token masked, for logs. */
export function safeErrorMessage(error: unknown, token: string): string {
  const text =
    error instanceof GrammyError || error instanceof HttpError
      ? classifyTelegramError(error).description
      : error instanceof Error
        ? error.message
        : String(error);
  return token ? text.split(token).join('[redacted]') : text;
}
