import { Writable } from 'node:stream';

import {
  counter,
  createLogger,
  createRegistry,
  isSecretField,
  redactSecrets,
  redactUrlCredentials,
  startHealthServer,
} from '@ibstack/observability';

function capture(): { lines: () => Array<Record<string, unknown>>; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('logger redaction', () => {
  it('replaces secret-named fields at any depth and keeps the rest', () => {
    const out = capture();
    const logger = createLogger({ service: 'test', destination: out.stream });
    logger.info(
      {
        password: 'hunter2',
        config: {
          IB_PASSWORD: 'p',
          TOTP_KEY: 'JBSWY3DP',
          TELEGRAM_BOT_TOKEN: '123:abc',
          apiKey: 'k',
          instrument: 'EURCAD',
        },
        req: { headers: { authorization: 'Bearer abc', host: 'x' } },
        nested: [{ client_secret: 's', privateKey: 'pk', key: 'bare' }],
        instrumentKey: 'EURCAD',
      },
      'hello',
    );
    const [line] = out.lines();
    const text = JSON.stringify(line);
    for (const secret of ['hunter2', 'JBSWY3DP', '123:abc', 'Bearer abc', '"k"', '"s"', '"pk"', 'bare']) {
      expect(text).not.toContain(secret);
    }
    expect(line).toMatchObject({
      service: 'test',
      msg: 'hello',
      instrumentKey: 'EURCAD',
      config: { instrument: 'EURCAD', IB_PASSWORD: '[redacted]' },
      req: { headers: { host: 'x', authorization: '[redacted]' } },
    });
  });

  it('redacts secrets in child-logger bindings too', () => {
    const out = capture();
    createLogger({ service: 'test', destination: out.stream }).child({ token: 'abc' }).warn('x');
    expect(JSON.stringify(out.lines()[0])).not.toContain('abc');
  });

  it('names secret fields by their words, not by substrings', () => {
    expect(
      [
        'password',
        'IB_PASSWORD',
        'botToken',
        'totp',
        'TOTP_KEY',
        'apiKey',
        'api_key',
        'Authorization',
        'key',
      ].every(isSecretField),
    ).toBe(true);
    expect(
      ['instrumentKey', 'kvKey', 'passed', 'tokenizer_name', 'monkey', 'keyboard'].some(isSecretField),
    ).toBe(false);
  });

  it('masks passwords in URLs in the message, in fields and in errors (message, stack, own fields, cause)', () => {
    const out = capture();
    const logger = createLogger({ service: 'test', destination: out.stream });
    const url = 'postgres://app:hunter2@db.internal:5432/ibstack';
    const error = Object.assign(new Error(`cannot reach Postgres at ${url}`, { cause: new Error(url) }), {
      url,
    });
    logger.error({ err: error, target: `nats://bot:s3cr3t@nats:4222` }, `could not start: ${error.message}`);
    logger.error(error);
    const text = JSON.stringify(out.lines());
    expect(text).not.toMatch(/hunter2|s3cr3t/);
    expect(out.lines()[1]).toMatchObject({
      msg: 'cannot reach Postgres at postgres://app:***@db.internal:5432/ibstack',
    });
    expect(text).toContain('postgres://app:***@db.internal:5432/ibstack');
    expect(out.lines()[0]).toMatchObject({
      err: { type: 'Error', url: 'postgres://app:***@db.internal:5432/ibstack' },
    });
    expect(redactUrlCredentials('see https://user:pw@host/path and http://host/x')).toBe(
      'see https://user:***@host/path and http://host/x',
    );
  });

  it('does not change the object it was given', () => {
    const input = { password: 'p' };
    expect(redactSecrets(input)).toEqual({ password: '[redacted]' });
    expect(input.password).toBe('p');
  });
});

describe('health server', () => {
  it('serves /healthz, /readyz from its checks, and /metrics', async () => {
    const registry = createRegistry('test', { defaultMetrics: false });
    counter(registry, 'things_total', 'Things').inc(3);
    let natsUp = false;
    const server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      registry,
      checks: [
        { name: 'nats', check: () => natsUp },
        { name: 'postgres', check: () => Promise.resolve(true) },
      ],
    });
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${server.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ ready: false, checks: { nats: false, postgres: true } });
      natsUp = true;
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toContain('things_total{service="test"} 3');
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
