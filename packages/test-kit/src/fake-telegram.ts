import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One Bot API call as the fake received it. */
export interface TelegramCall {
  method: string;
  token: string;
  /** JSON or form body, parsed; query parameters when there is no body. */
  params: Record<string, unknown>;
  at: number;
}

/** A `sendMessage` that Telegram would have accepted. */
export interface TelegramMessage {
  messageId: number;
  chatId: string;
  text: string;
  parseMode: string | undefined;
  at: number;
}

export interface FakeTelegram {
  /** Bot API root: `${url}/bot<token>/<method>` (grammy's `apiRoot`, Alertmanager's `api_url`). */
  readonly url: string;
  readonly calls: readonly TelegramCall[];
  /** Accepted `sendMessage` calls, in arrival order. */
  readonly messages: readonly TelegramMessage[];
  /** Resolves with the first message (already received or to come) whose text matches. */
  waitForMessage(match: RegExp | string, timeoutMs?: number): Promise<TelegramMessage>;
  close(): Promise<void>;
}

export interface FakeTelegramOptions {
  /** The only token accepted; others get 401 as from Telegram. @default any token */
  token?: string;
}

/** Tags Telegram's HTML parse mode accepts (https://core.telegram.org/bots/api#html-style). */
const HTML_TAGS = new Set([
  'b',
  'strong',
  'i',
  'em',
  'u',
  'ins',
  's',
  'strike',
  'del',
  'span',
  'tg-spoiler',
  'a',
  'code',
  'pre',
  'blockquote',
  'tg-emoji',
]);
const MAX_MESSAGE_LENGTH = 4096;

/**
 * Why Telegram would refuse `text` in HTML parse mode ("can't parse entities"), or undefined: unknown
 * or unbalanced tags, and a `<`, `>` or `&` that is not part of a tag or an entity.
 */
export function telegramHtmlProblem(text: string): string | undefined {
  const open: string[] = [];
  const token = /<(\/?)([a-z-]+)(\s[^<>]*)?>|&(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);|[<>&]/gi;
  for (const match of text.matchAll(token)) {
    const [whole, closing, name] = match;
    if (name === undefined && match[4] === undefined) return `unescaped "${whole}" at ${match.index}`;
    if (name === undefined) continue;
    const tag = name.toLowerCase();
    if (!HTML_TAGS.has(tag)) return `unsupported tag <${tag}>`;
    if (!closing) open.push(tag);
    else if (open.pop() !== tag) return `unbalanced </${tag}>`;
  }
  return open.length > 0 ? `unclosed <${open.at(-1)}>` : undefined;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  if ((req.headers['content-type'] ?? '').includes('application/json'))
    return JSON.parse(text) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(text));
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * A local stand-in for Telegram's Bot API: records every call, answers `sendMessage` as Telegram does
 * (and refuses what Telegram would refuse: a wrong token, an empty or too long text, HTML it cannot
 * parse), and `true` to other methods. Tests never reach Telegram.
 */
export async function startFakeTelegram(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const calls: TelegramCall[] = [];
  const messages: TelegramMessage[] = [];
  const waiters: Array<{ match: RegExp | string; resolve: (message: TelegramMessage) => void }> = [];
  const matches = (message: TelegramMessage, match: RegExp | string) =>
    typeof match === 'string' ? message.text.includes(match) : match.test(message.text);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const route = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!route) return reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    const [, token, method] = route as unknown as [string, string, string];
    const body = await readBody(req);
    const params = Object.keys(body).length > 0 ? body : Object.fromEntries(url.searchParams);
    calls.push({ method, token, params, at: Date.now() });
    if (options.token !== undefined && token !== options.token)
      return reply(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    if (method === 'getMe')
      return reply(res, 200, {
        ok: true,
        result: { id: 1, is_bot: true, first_name: 'ibstack-test', username: 'ibstack_test_bot' },
      });
    if (method !== 'sendMessage') return reply(res, 200, { ok: true, result: true });

    const text = typeof params.text === 'string' ? params.text : '';
    const chatId =
      typeof params.chat_id === 'string' || typeof params.chat_id === 'number' ? String(params.chat_id) : '';
    const parseMode = typeof params.parse_mode === 'string' ? params.parse_mode : undefined;
    const refuse = (description: string) =>
      reply(res, 400, { ok: false, error_code: 400, description: `Bad Request: ${description}` });
    if (chatId === '') return refuse('chat not found');
    if (text.trim() === '') return refuse('message text is empty');
    if (text.length > MAX_MESSAGE_LENGTH) return refuse('message is too long');
    const htmlProblem = parseMode?.toUpperCase() === 'HTML' ? telegramHtmlProblem(text) : undefined;
    if (htmlProblem) return refuse(`can't parse entities: ${htmlProblem}`);

    const message: TelegramMessage = {
      messageId: messages.length + 1,
      chatId,
      text,
      parseMode,
      at: Date.now(),
    };
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (matches(message, waiter.match)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
    reply(res, 200, {
      ok: true,
      result: {
        message_id: message.messageId,
        date: Math.floor(message.at / 1000),
        chat: { id: Number(chatId) || chatId, type: 'private' },
        text,
      },
    });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) =>
      reply(res, 400, { ok: false, error_code: 400, description: `Bad Request: ${String(error)}` }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    messages,
    waitForMessage: (match, timeoutMs = 60_000) => {
      const found = messages.find((message) => matches(message, match));
      if (found) return Promise.resolve(found);
      return new Promise<TelegramMessage>((resolve, reject) => {
        const waiter = {
          match,
          resolve: (message: TelegramMessage) => {
            clearTimeout(timer);
            resolve(message);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          const seen = messages.map((message) => `  ${message.text.split('\n')[0]}`).join('\n');
          reject(
            new Error(`no Telegram message matching ${String(match)} within ${timeoutMs} ms; got:\n${seen}`),
          );
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
