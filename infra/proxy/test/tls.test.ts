/**
 * tls.sh, the proxy's certificate chooser: the internal CA for a host without a domain (made once, a
 * 90-day server certificate renewed at 30 days left or when the names change), Let's Encrypt's
 * certificate when certbot has one for PROXY_DOMAIN, and nothing rewritten (so no reload) otherwise.
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runCommandOk } from '@ibstack/test-kit';

const TLS_SH = join(__dirname, '..', 'tls.sh');

describe('infra/proxy/tls.sh', () => {
  let dir: string;
  let env: Record<string, string>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ibstack-tls-'));
    env = {
      TLS_STATE_DIR: join(dir, 'state'),
      NGINX_TLS_DIR: join(dir, 'nginx'),
      LETSENCRYPT_DIR: join(dir, 'letsencrypt'),
      PROXY_HOSTNAMES: 'localhost,127.0.0.1',
    };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // dash, Debian's /bin/sh: the script must be POSIX (the image runs it under busybox).
  const choose = async (extra: Record<string, string> = {}) =>
    (await runCommandOk('dash', [TLS_SH], { env: { ...env, ...extra } })).stdout.trim();
  const served = () => new X509Certificate(readFileSync(join(dir, 'nginx', 'fullchain.pem')));
  const ca = () => new X509Certificate(readFileSync(join(dir, 'state', 'ca', 'ca.crt')));

  it('makes an internal CA and a 90-day certificate, then leaves both alone', async () => {
    expect(await choose()).toMatch(/^installed: internal CA certificate, valid until /);
    const first = served();
    expect(first.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(first.checkIssued(ca())).toBe(true);
    expect(first.verify(ca().publicKey)).toBe(true);
    expect(ca().ca).toBe(true);
    expect(first.ca).toBe(false);
    expect(statSync(join(dir, 'nginx', 'privkey.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'state', 'ca', 'ca.key')).mode & 0o777).toBe(0o600);

    expect(await choose()).toMatch(/^unchanged: internal CA certificate/);
    expect(served().fingerprint256).toBe(first.fingerprint256);
  });

  it('issues a new certificate when the names change, from the same CA', async () => {
    await choose();
    const before = ca().fingerprint256;
    expect(await choose({ PROXY_HOSTNAMES: 'trading.internal, 10.44.0.1' })).toMatch(
      /^installed: internal CA/,
    );
    expect(served().subjectAltName).toBe('DNS:trading.internal, IP Address:10.44.0.1');
    expect(ca().fingerprint256).toBe(before);
  });

  it('renews a certificate with less than 30 days left', async () => {
    await choose();
    const state = join(dir, 'state');
    // Replace the server certificate with one from the same CA that ends in 10 days.
    const request = join(dir, 'request.csr');
    await runCommandOk('openssl', [
      'req',
      '-new',
      '-key',
      join(state, 'internal', 'key.pem'),
      '-subj',
      '/CN=localhost',
      '-out',
      request,
    ]);
    await runCommandOk('openssl', [
      'x509',
      '-req',
      '-days',
      '10',
      '-in',
      request,
      '-CA',
      join(state, 'ca', 'ca.crt'),
      '-CAkey',
      join(state, 'ca', 'ca.key'),
      '-set_serial',
      '7',
      '-out',
      join(state, 'internal', 'cert.pem'),
    ]);
    expect(
      (Date.parse(new X509Certificate(readFileSync(join(state, 'internal', 'cert.pem'))).validTo) -
        Date.now()) /
        86_400_000,
    ).toBeLessThan(11);
    expect(await choose()).toMatch(/^installed: internal CA certificate/);
    const days = (Date.parse(served().validTo) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89);
  });

  it("serves Let's Encrypt's certificate for PROXY_DOMAIN once certbot has one, the internal one before", async () => {
    const domain = { PROXY_DOMAIN: 'trading.example.com' };
    expect(await choose(domain)).toMatch(/^installed: internal CA certificate/);
    expect(served().subjectAltName).toBe('DNS:trading.example.com, DNS:localhost, IP Address:127.0.0.1');

    // What certbot leaves under live/<domain>/ (here signed by a CA of the test's own).
    const live = join(dir, 'letsencrypt', 'live', 'trading.example.com');
    mkdirSync(live, { recursive: true });
    await runCommandOk('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '90',
      '-subj',
      '/CN=trading.example.com',
      '-addext',
      'subjectAltName=DNS:trading.example.com',
      '-keyout',
      join(live, 'privkey.pem'),
      '-out',
      join(live, 'fullchain.pem'),
    ]);
    expect(await choose(domain)).toMatch(/^installed: Let's Encrypt certificate/);
    expect(served().fingerprint256).toBe(
      new X509Certificate(readFileSync(join(live, 'fullchain.pem'))).fingerprint256,
    );
    expect(readFileSync(join(dir, 'nginx', 'privkey.pem'))).toEqual(readFileSync(join(live, 'privkey.pem')));
    expect(await choose(domain)).toMatch(/^unchanged: Let's Encrypt certificate/);
  });
});
