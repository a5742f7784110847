/**
 * A fake Telegram Bot API on 127.0.0.1 for tests: it answers `/bot<token>/<method>` like Telegram does
 * (and refuses what Telegram would refuse: a wrong token, an empty or too long text, HTML it cannot
 * parse), long-polls `getUpdates` with updates the test scripts (a user's message, a pressed button),
 * records every other call with its parameters (JSON or multipart, files included), and can be told to
 * fail the next calls of a method (429 with `retry_after`, 500, 403) or to hold one until released. Serves both a bot (grammY's
 * `apiRoot`) and Alertmanager (`api_url`). Nothing leaves the machine.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One Bot API call as the fake received it. */
export interface TelegramCall {
  method: string;
  token: string;
  /** Parameters as the bot sent them (multipart fields that hold JSON are parsed). */
  params: Record<string, unknown>;
  /** Uploaded files (sendPhoto), by field name. */
  files: Record<string, { name: string; type: string; bytes: Buffer }>;
  /** Epoch ms when the fake received it. */
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
const MAX_CAPTION_LENGTH = 1024;

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

export interface FakeUser {
  id: number;
  username?: string;
  first_name?: string;
}

export interface FakeChat {
  id: number;
  type?: 'private' | 'group' | 'supergroup';
}

export interface ScriptedFailure {
  status: number;
  description: string;
  retryAfter?: number;
}

interface PendingPoll {
  offset: number;
  limit: number;
  respond: (updates: unknown[]) => void;
}

/** A token in the shape BotFather gives, for configurations that check it. */
export const FAKE_TELEGRAM_TOKEN = '123456789:TESTtokenTESTtokenTESTtokenTESTtoken00';

/** Starts a fake Bot API; see `FakeTelegram`. */
export function startFakeTelegram(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  return FakeTelegram.start(options);
}

export class FakeTelegram {
  readonly calls: TelegramCall[] = [];
  /** Accepted `sendMessage` calls, in arrival order. */
  readonly messages: TelegramMessage[] = [];
  /** getUpdates requests received (long polls included). */
  polls = 0;
  private readonly updates: Array<{ update_id: number } & Record<string, unknown>> = [];
  private readonly waiting = new Set<PendingPoll>();
  private readonly failures = new Map<string, ScriptedFailure[]>();
  private readonly holds = new Map<string, Array<Promise<void>>>();
  private nextUpdateId = 1;
  private nextMessageId = 1;
  private nextCallbackId = 1;
  private readonly messageWaiters: Array<{
    match: RegExp | string;
    resolve: (message: TelegramMessage) => void;
  }> = [];

  private constructor(
    private readonly server: Server,
    /** The only token accepted, if any. */
    readonly token: string | undefined,
  ) {}

  static async start(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
    const holder: { fake?: FakeTelegram } = {};
    const server = createServer((req, res) => {
      holder.fake!.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error_code: 500, description: String(error) }));
      });
    });
    const fake = new FakeTelegram(server, options.token);
    holder.fake = fake;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** Bot API root: `${url}/bot<token>/<method>` (grammY's `apiRoot`, Alertmanager's `api_url`). */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The same as `url`, under grammY's name for it. */
  get apiRoot(): string {
    return this.url;
  }

  /** Resolves with the first message (already received or to come) whose text matches. */
  waitForMessage(match: RegExp | string, timeoutMs = 60_000): Promise<TelegramMessage> {
    const found = this.messages.find((message) => textMatches(message.text, match));
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
        this.messageWaiters.splice(this.messageWaiters.indexOf(waiter), 1);
        const seen = this.messages.map((message) => `  ${message.text.split('\n')[0]}`).join('\n');
        reject(
          new Error(`no Telegram message matching ${String(match)} within ${timeoutMs} ms; got:\n${seen}`),
        );
      }, timeoutMs);
      this.messageWaiters.push(waiter);
    });
  }

  /** A user writes `text` in `chat` (a command gets its bot_command entity, as Telegram adds it). */
  sendText(chat: FakeChat, from: FakeUser, text: string): number {
    const command = /^\/\S+/.exec(text);
    return this.push({
      message: {
        message_id: this.nextMessageId++,
        date: Math.floor(Date.now() / 1000),
        chat: {
          id: chat.id,
          type: chat.type ?? 'private',
          ...(chat.type && chat.type !== 'private' ? { title: 'test group' } : {}),
        },
        from: { is_bot: false, first_name: 'Test', ...from },
        text,
        ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] } : {}),
      },
    });
  }

  /** A user presses an inline button with `data` under the bot's message `messageId`. */
  pressButton(chat: FakeChat, from: FakeUser, messageId: number, data: string): number {
    return this.push({
      callback_query: {
        id: String(this.nextCallbackId++),
        from: { is_bot: false, first_name: 'Test', ...from },
        chat_instance: `ci${chat.id}`,
        data,
        message: {
          message_id: messageId,
          date: Math.floor(Date.now() / 1000),
          chat: { id: chat.id, type: chat.type ?? 'private' },
          from: { id: 999, is_bot: true, first_name: 'ibstack test bot' },
          text: 'confirm?',
        },
      },
    });
  }

  /** The next `times` calls of `method` fail with `failure`. */
  failNext(method: string, failure: ScriptedFailure, times = 1): void {
    const queue = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(failure);
    this.failures.set(method, queue);
  }

  /**
   * The next call of `method` is recorded at once but answered only when the returned function is called:
   * a test holds a send to let work pile up behind it, instead of hoping it piles up in time.
   */
  holdNext(method: string): () => void {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const queue = this.holds.get(method) ?? [];
    queue.push(held);
    this.holds.set(method, queue);
    return release;
  }

  /** Calls of `method`, optionally to one chat. */
  callsOf(method: string, chatId?: number): TelegramCall[] {
    return this.calls.filter(
      (call) => call.method === method && (chatId === undefined || Number(call.params.chat_id) === chatId),
    );
  }

  /** Messages (sendMessage and sendPhoto) the bot sent to `chatId`, oldest first. */
  messagesTo(chatId: number): TelegramCall[] {
    return this.calls.filter(
      (call) =>
        (call.method === 'sendMessage' || call.method === 'sendPhoto') &&
        Number(call.params.chat_id) === chatId,
    );
  }

  /** Texts (or captions) the bot sent to `chatId`, edits of its messages included. */
  textsTo(chatId: number): string[] {
    return this.calls
      .filter((call) => Number(call.params.chat_id) === chatId)
      .map((call) => call.params.text ?? call.params.caption)
      .filter((text): text is string => typeof text === 'string' && text.length > 0);
  }

  async close(): Promise<void> {
    for (const poll of this.waiting) poll.respond([]);
    this.waiting.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private push(update: Record<string, unknown>): number {
    const updateId = this.nextUpdateId++;
    this.updates.push({ update_id: updateId, ...update });
    for (const poll of [...this.waiting]) {
      const ready = this.pending(poll.offset, poll.limit);
      if (ready.length > 0) {
        this.waiting.delete(poll);
        poll.respond(ready);
      }
    }
    return updateId;
  }

  private pending(offset: number, limit: number): unknown[] {
    // Telegram forgets updates below the offset a client confirmed.
    while (this.updates.length > 0 && this.updates[0]!.update_id < offset) this.updates.shift();
    return this.updates.slice(0, limit);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/bot([^/]+)\/(\w+)$/.exec((req.url ?? '').split('?')[0] ?? '');
    const body = await readBody(req);
    const send = (status: number, payload: unknown) => {
      const text = JSON.stringify(payload);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    if (!match) return send(404, { ok: false, error_code: 404, description: 'Not Found' });
    const [, token, method] = match as unknown as [string, string, string];
    const parsed = parseParams(req.headers['content-type'] ?? '', body);
    const params =
      Object.keys(parsed.params).length > 0
        ? parsed.params
        : Object.fromEntries(new URL(req.url ?? '/', 'http://fake').searchParams);
    const { files } = parsed;
    if (this.token !== undefined && token !== this.token) {
      this.calls.push({ method, token, params, files, at: Date.now() });
      return send(401, { ok: false, error_code: 401, description: 'Unauthorized' });
    }

    if (method === 'getUpdates') {
      this.polls += 1;
      const offset = Number(params.offset ?? 0);
      const limit = Number(params.limit ?? 100);
      const ready = this.pending(offset, limit);
      const timeout = Number(params.timeout ?? 0);
      if (ready.length > 0 || timeout <= 0) return send(200, { ok: true, result: ready });
      await new Promise<void>((resolve) => {
        const socket = req.socket;
        const finish = () => {
          clearTimeout(timer);
          socket.off('close', abandoned);
          this.waiting.delete(poll);
          resolve();
        };
        // The bot aborted its long poll (stop): forget it.
        const abandoned = () => finish();
        const poll: PendingPoll = {
          offset,
          limit,
          respond: (updates) => {
            if (!res.writableEnded && !res.destroyed) send(200, { ok: true, result: updates });
            finish();
          },
        };
        const timer = setTimeout(() => poll.respond([]), timeout * 1000);
        socket.once('close', abandoned);
        this.waiting.add(poll);
      });
      return;
    }

    this.calls.push({ method, token, params, files, at: Date.now() });
    const held = this.holds.get(method)?.shift();
    if (held) await held;
    const failure = this.failures.get(method)?.shift();
    if (failure)
      return send(failure.status, {
        ok: false,
        error_code: failure.status,
        description: failure.description,
        ...(failure.retryAfter !== undefined ? { parameters: { retry_after: failure.retryAfter } } : {}),
      });
    const refusal = this.refusal(method, params);
    if (refusal) return send(400, { ok: false, error_code: 400, description: `Bad Request: ${refusal}` });
    const result = this.result(method, params);
    if (method === 'sendMessage') this.accept(result as { message_id: number }, params);
    send(200, { ok: true, result });
  }

  /** What Telegram would refuse in a message: no chat, no text, too long, HTML it cannot parse. */
  private refusal(method: string, params: Record<string, unknown>): string | undefined {
    const html = typeof params.parse_mode === 'string' && params.parse_mode.toUpperCase() === 'HTML';
    if (method === 'sendMessage' || method === 'editMessageText') {
      const text = typeof params.text === 'string' ? params.text : '';
      if (method === 'sendMessage' && (params.chat_id === undefined || params.chat_id === ''))
        return 'chat not found';
      if (text.trim() === '') return 'message text is empty';
      if (text.length > MAX_MESSAGE_LENGTH) return 'message is too long';
      const problem = html ? telegramHtmlProblem(text) : undefined;
      if (problem) return `can't parse entities: ${problem}`;
    }
    if (method === 'sendPhoto' && typeof params.caption === 'string') {
      if (params.caption.length > MAX_CAPTION_LENGTH) return 'message caption is too long';
      const problem = html ? telegramHtmlProblem(params.caption) : undefined;
      if (problem) return `can't parse entities: ${problem}`;
    }
    return undefined;
  }

  private accept(result: { message_id: number }, params: Record<string, unknown>): void {
    const message: TelegramMessage = {
      messageId: result.message_id,
      chatId: String(params.chat_id),
      text: String(params.text),
      parseMode: typeof params.parse_mode === 'string' ? params.parse_mode : undefined,
      at: Date.now(),
    };
    this.messages.push(message);
    for (const waiter of [...this.messageWaiters]) {
      if (textMatches(message.text, waiter.match)) {
        this.messageWaiters.splice(this.messageWaiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  }

  private result(method: string, params: Record<string, unknown>): unknown {
    const chatId = Number(params.chat_id ?? 0);
    const chat = { id: Number.isNaN(chatId) ? params.chat_id : chatId, type: 'private' };
    const message = { message_id: this.nextMessageId++, date: Math.floor(Date.now() / 1000), chat };
    switch (method) {
      case 'getMe':
        return {
          id: 1,
          is_bot: true,
          first_name: 'ibstack test bot',
          username: 'ibstack_test_bot',
          can_join_groups: true,
          can_read_all_group_messages: false,
          supports_inline_queries: false,
        };
      case 'sendMessage':
      case 'editMessageText':
        return {
          ...message,
          ...(method === 'editMessageText' ? { message_id: Number(params.message_id) } : {}),
          text: params.text,
        };
      case 'sendPhoto':
        return {
          ...message,
          photo: [
            {
              file_id: `photo${message.message_id}`,
              file_unique_id: `u${message.message_id}`,
              width: 900,
              height: 450,
            },
          ],
          ...(params.caption ? { caption: params.caption } : {}),
        };
      case 'editMessageReplyMarkup':
        return { ...message, message_id: Number(params.message_id) };
      default:
        return true;
    }
  }
}

function textMatches(text: string, match: RegExp | string): boolean {
  return typeof match === 'string' ? text.includes(match) : match.test(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseParams(
  contentType: string,
  body: Buffer,
): { params: Record<string, unknown>; files: TelegramCall['files'] } {
  if (body.length === 0) return { params: {}, files: {} };
  if (contentType.startsWith('application/json'))
    return { params: JSON.parse(body.toString('utf8')) as Record<string, unknown>, files: {} };
  if (contentType.startsWith('multipart/form-data')) {
    // A lenient parser: grammY writes `content-disposition:form-data;name="x"` without spaces, which
    // Telegram accepts and undici's FormData parser does not.
    const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
    if (!boundary) throw new Error('multipart body without a boundary');
    const params: Record<string, unknown> = {};
    const files: TelegramCall['files'] = {};
    for (const part of splitBuffer(body, Buffer.from(`--${boundary}`))) {
      if (part.length === 0 || part.subarray(0, 2).toString() === '--') continue;
      const content = part.subarray(part.indexOf('\r\n') === 0 ? 2 : 0);
      const headerEnd = content.indexOf('\r\n\r\n');
      if (headerEnd < 0) continue;
      const headers = content.subarray(0, headerEnd).toString('utf8');
      let value = content.subarray(headerEnd + 4);
      if (value.subarray(-2).toString() === '\r\n') value = value.subarray(0, -2);
      const name = /;\s*name="([^"]*)"/i.exec(headers)?.[1];
      if (!name) continue;
      // grammY leaves the file name unquoted.
      const filename = /filename=("?)([^";\r\n]*)\1/i.exec(headers)?.[2];
      if (filename !== undefined) {
        const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? 'application/octet-stream';
        files[name] = { name: filename, type, bytes: Buffer.from(value) };
      } else params[name] = parseMaybeJson(value.toString('utf8'));
    }
    return { params, files };
  }
  return { params: Object.fromEntries(new URLSearchParams(body.toString('utf8'))), files: {} };
}

function splitBuffer(buffer: Buffer, separator: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let from = 0;
  for (;;) {
    const at = buffer.indexOf(separator, from);
    if (at < 0) {
      parts.push(buffer.subarray(from));
      return parts;
    }
    parts.push(buffer.subarray(from, at));
    from = at + separator.length;
  }
}

function parseMaybeJson(value: string): unknown {
  if (!/^[[{]/.test(value)) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}
