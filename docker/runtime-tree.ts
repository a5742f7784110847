/**
 * Lays out the production tree of the image (the Dockerfile's build stage runs it; the image test and the
 * start-time bench run it too, so what they measure is what ships):
 *
 *   node --import tsx docker/runtime-tree.ts <repo> <compiled dist> <destination>
 *
 * Every workspace keeps its folder and package.json, with `main` pointing at the compiled `src/index.js`;
 * its TypeScript sources, tests and docs stay behind, other files (the strategy's YAML sleeves) come along.
 * The root package.json and lock are copied unchanged, so `npm ci --omit=dev` in the destination installs
 * exactly the locked production dependencies.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

interface WorkspacePackage {
  main?: string;
  types?: string;
  scripts?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** Files of a workspace that the runtime never needs. */
function isLeftBehind(pathInWorkspace: string): boolean {
  const top = pathInWorkspace.split('/')[0] ?? '';
  if (['test', 'node_modules', 'dist', 'coverage'].includes(top)) return true;
  if (pathInWorkspace.endsWith('.md')) return true;
  return top === 'src' && pathInWorkspace.endsWith('.ts');
}

function filesUnder(root: string, folder = root): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? filesUnder(root, path) : [relative(root, path)];
  });
}

export function workspaceFolders(repo: string): string[] {
  const root = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { workspaces: string[] };
  return root.workspaces.flatMap((pattern) => {
    const parent = pattern.replace(/\/\*$/, '');
    return readdirSync(join(repo, parent))
      .map((name) => `${parent}/${name}`)
      .filter((folder) => existsSync(join(repo, folder, 'package.json')));
  });
}

export function buildRuntimeTree(repo: string, compiled: string, destination: string): void {
  mkdirSync(destination, { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(repo, file), join(destination, file));
  for (const folder of workspaceFolders(repo)) {
    const source = join(repo, folder);
    const target = join(destination, folder);
    for (const file of filesUnder(source)) {
      if (file === 'package.json' || isLeftBehind(file)) continue;
      mkdirSync(join(target, file, '..'), { recursive: true });
      cpSync(join(source, file), join(target, file));
    }
    const compiledSources = join(compiled, folder, 'src');
    if (existsSync(compiledSources))
      cpSync(compiledSources, join(target, 'src'), {
        recursive: true,
        filter: (path) => !path.endsWith('.map') && !path.endsWith('.d.ts'),
      });
    const manifest = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as WorkspacePackage;
    if (manifest.main) manifest.main = manifest.main.replace(/\.ts$/, '.js');
    delete manifest.types;
    delete manifest.scripts;
    mkdirSync(target, { recursive: true });
    writeFileSync(join(target, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  }
}

/**
 * What the Dockerfile's build stage does, outside Docker: compile, lay out, `npm ci --omit=dev` (from the
 * npm cache when it can). For the image test and the start-time bench.
 */
export function buildImageTree(repo: string, destination: string): void {
  const compiled = join(destination, '..', `${destination.split('/').at(-1) ?? 'runtime'}-dist`);
  execFileSync(
    join(repo, 'node_modules', '.bin', 'tsc'),
    ['-p', join(repo, 'tsconfig.build.json'), '--outDir', compiled],
    {
      cwd: repo,
      stdio: 'inherit',
    },
  );
  // dashboard-api's page, bundled as the Dockerfile does before laying out the tree.
  execFileSync('npm', ['run', 'build', '--silent', '-w', '@ibstack/dashboard-api'], {
    cwd: repo,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  buildRuntimeTree(repo, compiled, destination);
  execFileSync(
    'npm',
    [
      'ci',
      '--omit=dev',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      '--prefer-offline',
      '--loglevel=error',
    ],
    {
      cwd: destination,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  // argon2's install step: use its prebuilt binary if it loads here, else compile it (as the Dockerfile).
  execFileSync('npm', ['rebuild', 'argon2', '--loglevel=error'], {
    cwd: destination,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

if (require.main === module) {
  const [repo, compiled, destination] = process.argv.slice(2);
  if (!repo || !compiled || !destination) {
    process.stderr.write('usage: runtime-tree.ts <repo> <compiled dist> <destination>\n');
    process.exit(64);
  }
  buildRuntimeTree(repo, compiled, destination);
}
