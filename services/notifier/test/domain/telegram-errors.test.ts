import { GrammyError, HttpError } from 'grammy';

import { classifyTelegramError, safeErrorMessage } from '../../src/adapters/telegram-errors';

const TOKEN = '123456789:AAEsecretsecretsecretsecretsecret00';

describe('Telegram errors', () => {
  it('treats 403 and 400 as final, 429, 5xx, 401 and the network as worth another try', () => {
    const grammy = (code: number, parameters = {}) =>
      new GrammyError('x', { ok: false, error_code: code, description: 'd', parameters }, 'sendMessage', {});
    expect(classifyTelegramError(grammy(403))).toMatchObject({ permanent: true, reason: 'forbidden' });
    expect(classifyTelegramError(grammy(400))).toMatchObject({ permanent: true, reason: 'bad_request' });
    expect(classifyTelegramError(grammy(429, { retry_after: 7 }))).toMatchObject({
      permanent: false,
      reason: 'rate_limited',
      retryAfterSeconds: 7,
    });
    expect(classifyTelegramError(grammy(502))).toMatchObject({ permanent: false, reason: 'server_error' });
    expect(classifyTelegramError(grammy(401))).toMatchObject({ permanent: false, reason: 'unauthorized' });
    expect(
      classifyTelegramError(new HttpError("Network request for 'sendMessage' failed!", new Error('x'))),
    ).toMatchObject({
      permanent: false,
      reason: 'network',
    });
  });

  it('never lets the token into a log line, though the fetch error names the URL', () => {
    const fetchError = new Error(
      `request to https://api.telegram.org/bot${TOKEN}/sendMessage failed, reason: ECONNRESET`,
    );
    expect(
      safeErrorMessage(new HttpError("Network request for 'sendMessage' failed!", fetchError), TOKEN),
    ).toBe("Network request for 'sendMessage' failed!");
    expect(safeErrorMessage(fetchError, TOKEN)).toBe(
      'request to https://api.telegram.org/bot[redacted]/sendMessage failed, reason: ECONNRESET',
    );
  });
});
