/** infra/SECURITY.md: every item of the checklist present, and every pointer in it true of the repository. */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { checkChecklist, parseChecklist } from './checklist';

const REPO = join(__dirname, '..', '..');
const DOCUMENT = readFileSync(join(REPO, 'infra', 'SECURITY.md'), 'utf8');

describe('infra/SECURITY.md', () => {
  it('covers every item of the checklist, each with a test', () => {
    const { items, problems } = parseChecklist(DOCUMENT);
    expect(problems).toEqual([]);
    const headings = items.map((item) => item.heading).join('\n');
    for (const item of [
      /TLS 1\.2/,
      /redirects to HTTPS/,
      /headers/i,
      /application ports stay on localhost/,
      /SSH by key only/,
      /firewall/i,
      /fail2ban/,
      /rate limiting/i,
      /log rotation/i,
      /certificate renewal/i,
      /secrets by file/i,
    ])
      expect({ item: item.source, covered: item.test(headings) }).toEqual({
        item: item.source,
        covered: true,
      });
    for (const item of items)
      expect({
        item: item.heading,
        tests: item.pointers.filter((p) => p.kind === 'test').length > 0,
      }).toEqual({
        item: item.heading,
        tests: true,
      });
  });

  it('points only at files, tests and configuration lines that exist', () => {
    expect(checkChecklist(REPO, DOCUMENT)).toEqual([]);
  });

  it('fails when a pointer rots: a file gone, a test renamed, a configuration line changed', () => {
    // A copy of the files the check reads, changed the way a careless edit would.
    const copy = mkdtempSync(join(tmpdir(), 'ibstack-security-'));
    try {
      for (const path of ['infra', 'docker-compose.yml'])
        cpSync(join(REPO, path), join(copy, path), { recursive: true });
      const site = join(copy, 'infra/proxy/ibstack/site.conf');
      writeFileSync(
        site,
        readFileSync(site, 'utf8').replace(
          'ssl_protocols TLSv1.2 TLSv1.3;',
          'ssl_protocols TLSv1 TLSv1.2 TLSv1.3;',
        ),
      );
      const tls = join(copy, 'infra/proxy/test/tls.test.ts');
      writeFileSync(
        tls,
        readFileSync(tls, 'utf8').replace("it('renews a certificate", "it.skip('renews a certificate"),
      );
      rmSync(join(copy, 'infra/host/provision.sh'));
      const document = `${DOCUMENT}\n## 99. A new item\n\n- config: \`docker-compose.yml\`\n`;
      const problems = checkChecklist(copy, document);
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/site\.conf no longer contains `ssl_protocols TLSv1\.2 TLSv1\.3;`/),
          expect.stringMatching(
            /tls\.test\.ts has no test "renews a certificate with less than 30 days left"/,
          ),
          expect.stringMatching(/infra\/host\/provision\.sh does not exist/),
          '"A new item": no test enforces it',
        ]),
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
