/**
 * The images' contents without Docker: the Dockerfile's build stage run here (compile, lay out,
 * `npm ci --omit=dev`), then every target's CMD started from that tree. Proves the entries exist as
 * compiled JavaScript, load with production dependencies only, and stop with the configuration-error code
 * on a bad environment.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { buildImageTree } from '../../../../docker/runtime-tree';
import { readDockerfile, REPO } from './compose-file';

const dir = mkdtempSync(join(tmpdir(), 'ibstack-image-'));
const app = join(dir, 'app');

function run(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: app, env: { PATH: process.env.PATH, ...env }, timeout: 20_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (name === 'node_modules') return [];
    return statSync(path).isDirectory() ? filesUnder(path) : [relative(app, path)];
  });
}

beforeAll(() => buildImageTree(REPO, app), 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const targets = readDockerfile().stages.filter((stage) => stage.cmd?.[0] === 'node');

describe('image contents (the Dockerfile build stage, run here)', () => {
  it('ships compiled JavaScript without TypeScript sources, tests or dev dependencies', () => {
    const files = filesUnder(app);
    // Node runs no TypeScript (browser sources a service bundles, like dashboard-api's web/, may come along).
    expect(files.filter((file) => /^(packages|services)\/[^/]+\/src\/.*\.ts$/.test(file))).toEqual([]);
    expect(files.filter((file) => /(^|\/)test\//.test(file))).toEqual([]);
    expect(files).toContain('services/strategy/config/demo.yaml');
    // dashboard-api's page, bundled at build time, where its Dockerfile target's WEB_ROOT points.
    const webRoot = /WEB_ROOT=\/app\/(\S+)/.exec(readFileSync(join(REPO, 'Dockerfile'), 'utf8'))?.[1];
    expect(files).toEqual(expect.arrayContaining([`${webRoot}/index.html`, `${webRoot}/app.js`]));
    for (const devOnly of ['typescript', 'jest', 'eslint', 'ts-jest', 'prettier', 'dclint', '@types'])
      expect({ devOnly, installed: existsSync(join(app, 'node_modules', devOnly)) }).toEqual({
        devOnly,
        installed: false,
      });
    const manifest = JSON.parse(readFileSync(join(app, 'packages/config/package.json'), 'utf8')) as {
      main: string;
    };
    expect(manifest.main).toBe('src/index.js');
  });

  it('keeps secrets, local state and dependencies out of the build context', () => {
    const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['secrets', '.env', '.state', '.deploy', '**/node_modules', '.git'])
      expect(ignored).toContain(entry);
  });

  it.each(targets.map((stage) => [stage.name, stage.cmd!]))(
    '%s: its CMD loads from the production tree and stops with 78 on a bad environment',
    async (_name, cmd) => {
      expect(existsSync(join(app, cmd[1]!))).toBe(true);
      const result = await run(cmd.slice(1), { HTTP_PORT: 'not-a-port', DATABASE_URL: 'not-a-url' });
      expect(`${result.code}: ${result.stderr}`).toMatch(/^78: [\s\S]*invalid configuration/);
    },
    30_000,
  );

  it('answers the HEALTHCHECK from /healthz: 0 when it is 200, 1 when nothing listens', async () => {
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/healthz' ? 200 : 404);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const probe = ['packages/observability/src/cli/healthz.js'];
    try {
      expect((await run(probe, { HTTP_PORT: String(port) })).code).toBe(0);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const refused = await run(probe, { HTTP_PORT: String(port) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/ECONNREFUSED/);
  });
});
