/**
 * Bundles the page (web/) into public/ with esbuild from the npm registry: no CDN at run time. Run by
 * `npm run build -w @ibstack/dashboard-api` and the image build; the service builds it at start when
 * public/ is missing or older than its sources (npm start and the tests need no extra step).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { build } from 'esbuild';

export const WEB_SOURCES = join(__dirname, '..', 'web');

function newest(folder: string): number {
  return Math.max(...readdirSync(folder).map((name) => statSync(join(folder, name)).mtimeMs));
}

export function webBuildIsCurrent(outdir: string): boolean {
  const built = join(outdir, 'app.js');
  if (!existsSync(built)) return false;
  return !existsSync(WEB_SOURCES) || statSync(built).mtimeMs >= newest(WEB_SOURCES);
}

export async function buildWeb(outdir: string): Promise<void> {
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: [join(WEB_SOURCES, 'app.ts')],
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'iife',
    target: ['es2022', 'chrome110', 'safari16', 'firefox115'],
    outfile: join(outdir, 'app.js'),
    logLevel: 'warning',
    legalComments: 'linked',
  });
  copyFileSync(join(WEB_SOURCES, 'index.html'), join(outdir, 'index.html'));
  copyFileSync(join(WEB_SOURCES, 'app.css'), join(outdir, 'app.css'));
}

/** Builds the page unless it is up to date; a missing web/ (an image without sources) is left alone. */
export async function ensureWebBuilt(outdir: string): Promise<void> {
  if (!existsSync(WEB_SOURCES) || webBuildIsCurrent(outdir)) return;
  await buildWeb(outdir);
}
