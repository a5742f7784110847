/**
 * The reverse proxy as shipped (infra/proxy), run by Debian's nginx in front of the real dashboard-api:
 * `nginx -t` on the production files, HTTP → HTTPS redirect, TLS 1.2 and 1.3 only with a certificate
 * from the internal CA, security headers once each, the routes (dashboard page and API, /health, /ws,
 * Grafana under /grafana/, internal endpoints hidden), rate-limited bursts, and the certificate-expiry
 * metric from Debian's blackbox exporter. Grafana is not packaged for Debian: a stand-in server records
 * what reaches it. Only two things differ from production: the listen addresses (free ports on
 * 127.0.0.1 instead of 80 and 443) and the upstream addresses (this machine instead of compose names).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import {
  closeSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingHttpHeaders, request as httpRequest, type Server } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, connect as tlsConnect, type SecureVersion } from 'node:tls';

import { BLACKBOX_EXPORTER_METRICS } from '@ibstack/monitoring';
import {
  createTestBus,
  createTestDatabase,
  eventually,
  freePort,
  runCommand,
  runCommandOk,
  spawnProcess,
  spawnTs,
  type SpawnedProcess,
  type TestBus,
  type TestDatabase,
  testEnvironment,
} from '@ibstack/test-kit';

const REPO = join(__dirname, '..', '..', '..');
const PROXY = join(REPO, 'infra', 'proxy');
const DASHBOARD = join(REPO, 'services', 'dashboard-api', 'src', 'main.ts');

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

/** How many times a header appears (nginx's add_header and an upstream's copy would both be sent). */
const countHeader = (reply: Reply, name: string) =>
  reply.rawHeaders.filter((value, index) => index % 2 === 0 && value.toLowerCase() === name).length;

/**
 * `nginx -t`, through a pipe: nginx opens /dev/stdout for the access log, which works on a pipe or a file
 * (as in a container) but not on the socket Node gives a child for its output.
 */
const nginxTest = (config: string) =>
  runCommand('bash', [
    '-o',
    'pipefail',
    '-c',
    'nginx -t -c "$1" -g "pid $2;" 2>&1 | cat',
    'nginx-test',
    config,
    `${config}.pid`,
  ]);

/** Copies the proxy's files into `dir` as /etc/nginx holds them, with test ports and upstreams. */
function layOut(dir: string, ports: { http: number; https: number }, upstreams: string | null): void {
  cpSync(join(PROXY, 'nginx.conf'), join(dir, 'nginx.conf'));
  cpSync(join(PROXY, 'ibstack'), join(dir, 'ibstack'), { recursive: true });
  cpSync('/etc/nginx/mime.types', join(dir, 'mime.types'));
  if (upstreams !== null) writeFileSync(join(dir, 'ibstack', 'upstreams.conf'), upstreams);
  const site = join(dir, 'ibstack', 'site.conf');
  writeFileSync(
    site,
    readFileSync(site, 'utf8')
      .replace('listen 80 default_server;', `listen 127.0.0.1:${ports.http} default_server;`)
      .replace('listen 443 ssl default_server;', `listen 127.0.0.1:${ports.https} ssl default_server;`)
      .replace(/^\s*listen \[::\].*\n/gm, ''),
  );
}

describe('the reverse proxy (nginx) in front of dashboard-api', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ibstack-proxy-'));
  const conf = join(dir, 'nginx');
  const tlsState = join(dir, 'tls-state');
  let database: TestDatabase;
  let testBus: TestBus;
  let dashboard: SpawnedProcess;
  let dashboardPort: number;
  let nginx: ChildProcess | undefined;
  let grafana: Server;
  const grafanaSeen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  let ports: { http: number; https: number };
  let ca: Buffer;
  let agent: Agent;

  const https = (path: string, options: { method?: string; body?: string; agent?: Agent } = {}) =>
    new Promise<Reply>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: ports.https,
          path,
          method: options.method ?? 'GET',
          servername: 'localhost',
          ca,
          agent: options.agent ?? agent,
          headers: { host: 'localhost', 'content-type': 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              headers: res.headers,
              rawHeaders: res.rawHeaders,
              body: Buffer.concat(chunks).toString(),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(options.body);
    });

  const tlsHandshake = (version: SecureVersion, port = ports.https) =>
    new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca,
        minVersion: version,
        maxVersion: version,
        // Let this client offer old protocols, so a refusal is the server's.
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      socket.once('secureConnect', () => {
        const protocol = socket.getProtocol() ?? '';
        socket.end();
        if (!socket.authorized) reject(new Error(`not authorized: ${String(socket.authorizationError)}`));
        else resolve(protocol);
      });
      socket.once('error', reject);
    });

  beforeAll(async () => {
    [database, testBus] = await Promise.all([createTestDatabase(), createTestBus()]);
    dashboardPort = await freePort();
    dashboard = spawnTs(DASHBOARD, [], {
      DATABASE_URL: database.url,
      NATS_URL: testEnvironment().natsUrl,
      BUS_NAMESPACE: testBus.namespace,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(dashboardPort),
      JWT_SECRET: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
    });
    grafana = createServer((req, res) => {
      grafanaSeen.push({ url: req.url!, headers: req.headers });
      res.setHeader('x-frame-options', 'sameorigin'); // Grafana's own, replaced by the proxy's
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ grafana: true }));
    });
    await new Promise<void>((resolve) => grafana.listen(0, '127.0.0.1', resolve));
    ports = { http: await freePort(), https: await freePort() };

    mkdirSync(conf);
    layOut(
      conf,
      ports,
      [
        `map "" $dashboard_upstream { default 127.0.0.1:${dashboardPort}; }`,
        `map "" $grafana_upstream { default 127.0.0.1:${(grafana.address() as AddressInfo).port}; }`,
        '',
      ].join('\n'),
    );
    const tls = await runCommandOk('sh', [join(PROXY, 'tls.sh')], {
      env: {
        TLS_STATE_DIR: tlsState,
        NGINX_TLS_DIR: join(conf, 'tls'),
        PROXY_HOSTNAMES: 'localhost,127.0.0.1',
      },
    });
    expect(tls.stdout).toMatch(/^installed: internal CA certificate, valid until /);
    ca = readFileSync(join(tlsState, 'ca', 'ca.crt'));
    agent = new Agent({ keepAlive: true, maxSockets: 10 });

    await eventually(
      async () => expect((await fetch(`http://127.0.0.1:${dashboardPort}/healthz`)).status).toBe(200),
      {
        timeoutMs: 60_000,
      },
    );
    // nginx opens /dev/stdout for its access log, which works on a file or a pipe but not on the socket
    // Node gives a child: its output goes to a file here.
    const log = openSync(join(dir, 'nginx.log'), 'a');
    nginx = spawn('nginx', ['-c', join(conf, 'nginx.conf'), '-g', `daemon off; pid ${dir}/nginx.pid;`], {
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    await eventually(
      async () => {
        if (nginx!.exitCode !== null)
          throw new Error(`nginx exited: ${readFileSync(join(dir, 'nginx.log'), 'utf8')}`);
        expect((await https('/health')).status).toBe(200);
      },
      { timeoutMs: 30_000 },
    );
  }, 120_000);

  afterAll(async () => {
    agent?.destroy();
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx!.once('exit', resolve));
      nginx.kill('SIGQUIT');
      await exited;
    }
    await dashboard?.kill('SIGTERM');
    await new Promise<void>((resolve) => grafana?.close(() => resolve()));
    await testBus?.destroy();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes `nginx -t` exactly as shipped, compose upstreams included', async () => {
    const shipped = join(dir, 'shipped');
    mkdirSync(shipped);
    cpSync(join(PROXY, 'nginx.conf'), join(shipped, 'nginx.conf'));
    cpSync(join(PROXY, 'ibstack'), join(shipped, 'ibstack'), { recursive: true });
    cpSync('/etc/nginx/mime.types', join(shipped, 'mime.types'));
    cpSync(join(conf, 'tls'), join(shipped, 'tls'), { recursive: true });
    const result = await nginxTest(join(shipped, 'nginx.conf'));
    expect(result.stdout).toMatch(/syntax is ok/);
    expect(result.stdout).toMatch(/test is successful/);
    expect(result.code).toBe(0);
  });

  it('redirects plain HTTP to HTTPS permanently, except ACME challenges', async () => {
    const get = (path: string) =>
      new Promise<Reply>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port: ports.http, path, headers: { host: 'dash.example.com' } },
          (res) => {
            res.resume();
            res.on('end', () =>
              resolve({
                status: res.statusCode!,
                headers: res.headers,
                rawHeaders: res.rawHeaders,
                body: '',
              }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
    const redirect = await get('/api/positions?since=1');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('https://dash.example.com/api/positions?since=1');
    // Let's Encrypt's HTTP-01 challenge is answered over HTTP, not redirected; so is the container's
    // health check, from the container itself.
    expect((await get('/.well-known/acme-challenge/token-that-is-not-there')).status).toBe(404);
    expect((await get('/proxy-health')).status).toBe(200);
  });

  it('speaks TLS 1.2 and 1.3 with a certificate the internal CA signed, and refuses 1.0 and 1.1', async () => {
    expect(await tlsHandshake('TLSv1.3')).toBe('TLSv1.3');
    expect(await tlsHandshake('TLSv1.2')).toBe('TLSv1.2');
    await expect(tlsHandshake('TLSv1.1')).rejects.toThrow();
    await expect(tlsHandshake('TLSv1')).rejects.toThrow();
    // The same client does speak 1.0 and 1.1 to a server that allows them: the refusal is nginx's.
    const permissive = createTlsServer(
      {
        cert: readFileSync(join(conf, 'tls', 'fullchain.pem')),
        key: readFileSync(join(conf, 'tls', 'privkey.pem')),
        minVersion: 'TLSv1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      },
      (socket) => socket.end(),
    );
    await new Promise<void>((resolve) => permissive.listen(0, '127.0.0.1', resolve));
    try {
      const port = (permissive.address() as AddressInfo).port;
      expect(await tlsHandshake('TLSv1.1', port)).toBe('TLSv1.1');
      expect(await tlsHandshake('TLSv1', port)).toBe('TLSv1');
    } finally {
      permissive.close();
    }
    const served = new X509Certificate(readFileSync(join(conf, 'tls', 'fullchain.pem')));
    expect(served.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(served.checkIssued(new X509Certificate(ca))).toBe(true);
    const days = (Date.parse(served.validTo) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89);
    expect(days).toBeLessThanOrEqual(90);
  });

  it('sets the security headers once each, on proxied answers and its own errors alike', async () => {
    for (const reply of [
      await https('/health'),
      await https('/api/no-such-route'),
      await https('/metrics'),
    ]) {
      expect(reply.headers['strict-transport-security']).toBe('max-age=63072000');
      expect(reply.headers['x-content-type-options']).toBe('nosniff');
      expect(reply.headers['x-frame-options']).toBe('DENY');
      expect(reply.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
      expect(reply.headers['permissions-policy']).toMatch(/camera=\(\)/);
      for (const name of [
        'strict-transport-security',
        'x-content-type-options',
        'x-frame-options',
        'referrer-policy',
      ])
        expect({ name, count: countHeader(reply, name) }).toEqual({ name, count: 1 });
      expect(reply.headers.server).toBe('nginx'); // no version
      expect(reply.headers['x-powered-by']).toBeUndefined();
    }
    // The dashboard's own Content-Security-Policy passes through.
    expect((await https('/health')).headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
  });

  it('routes /health and the API to the dashboard, /grafana/ to Grafana, and hides internal endpoints', async () => {
    const health = await https('/health');
    const direct = (await (await fetch(`http://127.0.0.1:${dashboardPort}/health`)).json()) as Record<
      string,
      unknown
    >;
    expect(health.status).toBe(200);
    const proxied = JSON.parse(health.body) as Record<string, unknown>;
    expect(Object.keys(proxied).sort()).toEqual(Object.keys(direct).sort());
    expect(proxied.status).toBe('ok');

    const openapi = await https('/api/openapi.json');
    expect(openapi.status).toBe(200);
    expect((JSON.parse(openapi.body) as { openapi: string }).openapi).toMatch(/^3\./);
    const unauthenticated = await https('/api/positions');
    expect(unauthenticated.status).toBe(401);

    const dashboard = await https('/grafana/d/trading/overview?orgId=1');
    expect(dashboard.status).toBe(200);
    expect(JSON.parse(dashboard.body)).toEqual({ grafana: true });
    const seen = grafanaSeen.at(-1)!;
    expect(seen.url).toBe('/grafana/d/trading/overview?orgId=1');
    expect(seen.headers.host).toBe('localhost');
    expect(seen.headers['x-forwarded-proto']).toBe('https');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');

    // Prometheus scrapes these inside the compose network; from outside they do not exist.
    for (const path of ['/metrics', '/readyz', '/healthz']) {
      const reply = await https(path);
      expect({ path, status: reply.status }).toEqual({ path, status: 404 });
    }
  });

  it('passes the dashboard WebSocket upgrade through', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest({
        host: '127.0.0.1',
        port: ports.https,
        path: '/ws',
        servername: 'localhost',
        ca,
        headers: {
          host: 'localhost',
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': randomBytes(16).toString('base64'),
        },
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode!);
      });
      req.on('response', (res) => resolve(res.statusCode!));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(101);
  });

  it('answers 502 in the dashboard error shape when a service behind it is down', async () => {
    const port = (grafana.address() as AddressInfo).port;
    await new Promise<void>((resolve) => grafana.close(() => resolve()));
    const reply = await https('/grafana/');
    expect(reply.status).toBe(502);
    expect(JSON.parse(reply.body)).toEqual({
      error: { code: 'unavailable', message: 'the service behind this address is not answering' },
    });
    expect(reply.headers['strict-transport-security']).toBe('max-age=63072000');
    grafana = createServer((_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => grafana.listen(port, '127.0.0.1', resolve));
    expect((await https('/grafana/')).status).toBe(200);
  });

  it('rate-limits a login burst to 1 + 5 attempts per address, in the dashboard error shape', async () => {
    // Ten attempts at once with a wrong password: nginx lets the first six reach the dashboard (which
    // refuses them: 401) and answers the rest itself.
    const fresh = new Agent({ keepAlive: false });
    try {
      const replies = await Promise.all(
        Array.from({ length: 10 }, () =>
          https('/api/auth/login', {
            method: 'POST',
            body: JSON.stringify({ username: 'nobody', password: 'wrong password' }),
            agent: fresh,
          }),
        ),
      );
      const statuses = replies.map((reply) => reply.status).sort();
      expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429, 429, 429, 429]);
      const limited = replies.find((reply) => reply.status === 429)!;
      expect(JSON.parse(limited.body)).toEqual({
        error: { code: 'rate_limited', message: 'too many requests from this address; slow down' },
      });
      expect(limited.headers['retry-after']).toBe('1');
      expect(limited.headers['x-frame-options']).toBe('DENY');
    } finally {
      fresh.destroy();
    }
  });

  it('rate-limits a burst of ordinary requests to 20/s with bursts of 40, then lets requests through again', async () => {
    const started = Date.now();
    const statuses = await Promise.all(
      Array.from({ length: 120 }, async () => (await https('/health')).status),
    );
    const seconds = (Date.now() - started) / 1000;
    const passed = statuses.filter((status) => status === 200).length;
    const limited = statuses.filter((status) => status === 429).length;
    expect(passed + limited).toBe(120);
    // Burst 40 plus the first, plus 20 more for every second the burst took.
    expect(passed).toBeGreaterThanOrEqual(41);
    expect(passed).toBeLessThanOrEqual(41 + Math.ceil(20 * seconds) + 1);
    expect(limited).toBeGreaterThan(0);
    await eventually(async () => expect((await https('/health')).status).toBe(200));
  });

  it('reports the served certificate’s expiry through the blackbox exporter', async () => {
    const port = await freePort();
    const exporter = spawnProcess('prometheus-blackbox-exporter', [
      `--config.file=${join(PROXY, 'blackbox.yml')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
    try {
      const metrics = await eventually(
        async () => {
          const response = await fetch(
            `http://127.0.0.1:${port}/probe?module=proxy_https&target=${encodeURIComponent(`https://127.0.0.1:${ports.https}/health`)}`,
          );
          expect(response.status).toBe(200);
          return response.text();
        },
        { timeoutMs: 20_000 },
      );
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
      // Every name the alert rules read from this exporter (packages/monitoring's inventory relies on it).
      for (const name of BLACKBOX_EXPORTER_METRICS) expect(metrics).toMatch(new RegExp(`^${name} `, 'm'));
      expect(value('probe_success')).toBe(1);
      const served = new X509Certificate(readFileSync(join(conf, 'tls', 'fullchain.pem')));
      expect(value('probe_ssl_earliest_cert_expiry')).toBe(Date.parse(served.validTo) / 1000);
    } finally {
      await exporter.kill('SIGTERM');
    }
  });
});
