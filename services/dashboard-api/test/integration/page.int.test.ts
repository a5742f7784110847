/**
 * The page on a fresh checkout: nothing built yet. The service builds it at start, after its HTTP app is
 * made, and must serve it on that first run (it once answered `/` with 404 until a restart).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Stack, startStack } from './harness';

let stack: Stack;
let pageDir: string;

beforeAll(async () => {
  pageDir = mkdtempSync(join(tmpdir(), 'ibstack-page-'));
  stack = await startStack({ trading: false, pageBuildDir: pageDir });
}, 60_000);

afterAll(async () => {
  await stack?.close();
  rmSync(pageDir, { recursive: true, force: true });
});

it('builds the page at its first start and serves it at / with its script and styles', async () => {
  expect(existsSync(join(pageDir, 'index.html'))).toBe(true);
  const page = await fetch(`${stack.url}/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  const html = await page.text();
  expect(html).toContain('app.js');
  for (const asset of ['app.js', 'app.css']) {
    const response = await fetch(`${stack.url}/${asset}`);
    expect(response.status).toBe(200);
    expect((await response.text()).length).toBeGreaterThan(100);
  }
  // The API's own 404 is unchanged.
  expect((await fetch(`${stack.url}/api/nothing-here`)).status).toBe(404);
});
