/** Telegram answered 401 to getMe: the token is wrong or revoked, which no restart fixes. */
export class TelegramTokenRejectedError extends Error {
  override readonly name = 'TelegramTokenRejectedError';
  constructor(options?: { cause?: unknown }) {
    super(
      'Telegram rejected the bot token (401 Unauthorized): check the file TELEGRAM_BOT_TOKEN_FILE names (BotFather: /token)',
      options,
    );
  }
}
