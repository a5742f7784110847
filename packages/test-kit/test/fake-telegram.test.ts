import { type FakeTelegram, startFakeTelegram, telegramHtmlProblem } from '../src';

describe('fake Telegram Bot API', () => {
  let telegram: FakeTelegram;
  beforeEach(async () => {
    telegram = await startFakeTelegram({ token: '123:abc' });
  });
  afterEach(async () => {
    await telegram.close();
  });

  const call = async (token: string, method: string, body: unknown) => {
    const response = await fetch(`${telegram.url}/bot${token}/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('records sendMessage and answers as Telegram does', async () => {
    const waiting = telegram.waitForMessage(/firing/, 5_000);
    const answer = await call('123:abc', 'sendMessage', {
      chat_id: -100,
      text: '<b>firing</b> gateway &amp; co',
      parse_mode: 'HTML',
    });
    expect(answer).toEqual({
      status: 200,
      body: {
        ok: true,
        result: expect.objectContaining({ message_id: 1, chat: { id: -100, type: 'private' } }) as unknown,
      },
    });
    await expect(waiting).resolves.toMatchObject({ chatId: '-100', parseMode: 'HTML' });
    expect(telegram.calls.map((recorded) => recorded.method)).toEqual(['sendMessage']);
  });

  it('refuses a wrong token, an empty text and HTML Telegram cannot parse, and keeps none of them', async () => {
    expect((await call('999:zzz', 'sendMessage', { chat_id: 1, text: 'x' })).status).toBe(401);
    expect((await call('123:abc', 'sendMessage', { chat_id: 1, text: ' ' })).status).toBe(400);
    const badHtml = await call('123:abc', 'sendMessage', {
      chat_id: 1,
      text: 'drawdown < 5% <br>',
      parse_mode: 'HTML',
    });
    expect(badHtml.status).toBe(400);
    expect(badHtml.body.description).toMatch(/can't parse entities/);
    expect(telegram.messages).toEqual([]);
    expect(telegram.calls).toHaveLength(3);
  });

  it('says what in a text HTML parse mode would refuse', () => {
    expect(telegramHtmlProblem('<b>ok</b> &lt;5% <a href="x">link</a>')).toBeUndefined();
    expect(telegramHtmlProblem('<b>open')).toBe('unclosed <b>');
    expect(telegramHtmlProblem('<b><i>x</b></i>')).toBe('unbalanced </b>');
    expect(telegramHtmlProblem('<br>')).toBe('unsupported tag <br>');
    expect(telegramHtmlProblem('a & b')).toMatch(/unescaped "&"/);
  });

  it('says which messages arrived when the one waited for does not', async () => {
    await call('123:abc', 'sendMessage', { chat_id: 1, text: 'something else' });
    await expect(telegram.waitForMessage('resolved', 50)).rejects.toThrow(/something else/);
  });
});
