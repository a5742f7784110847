/**
 * npm run check:pins [-- DIR]: fails (exit 1) when any image, dependency or action of the repository at
 * DIR (default: this one) is not pinned, listing each one; the rules are in scripts/pins/rules.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import { parse } from 'yaml';

import {
  composeProblems,
  dockerfileProblems,
  lockfileProblems,
  packageJsonProblems,
  type PinProblem,
  workflowProblems,
} from './pins/rules';

export function checkRepository(root: string): { files: number; problems: PinProblem[] } {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((file) => file !== '' && existsSync(join(root, file)) && !file.includes('node_modules/'));
  const read = (file: string) => readFileSync(join(root, file), 'utf8');
  const problems: PinProblem[] = [];
  let checked = 0;
  const workspaces = new Map<string, Record<string, unknown>>();
  for (const file of files) {
    const name = file.split('/').at(-1)!;
    if (name === 'package.json') {
      const json = JSON.parse(read(file)) as Record<string, unknown>;
      problems.push(...packageJsonProblems(file, json));
      workspaces.set(dirname(file) === '.' ? '' : dirname(file), json);
    } else if (/^(docker-)?compose([.-][\w.-]+)?\.ya?ml$/.test(name)) {
      problems.push(...composeProblems(file, parse(read(file), { merge: true }) as Record<string, never>));
    } else if (/^Dockerfile([.-][\w.-]+)?$|\.Dockerfile$/.test(name)) {
      problems.push(...dockerfileProblems(file, read(file)));
    } else if (/^\.github\/workflows\/[^/]+\.ya?ml$/.test(file)) {
      problems.push(...workflowProblems(file, read(file)));
    } else {
      continue;
    }
    checked++;
  }
  if (workspaces.has('')) {
    const lockfile = existsSync(join(root, 'package-lock.json'))
      ? (JSON.parse(read('package-lock.json')) as Parameters<typeof lockfileProblems>[1])
      : undefined;
    problems.push(...lockfileProblems('package-lock.json', lockfile, workspaces));
    checked++;
  }
  return { files: checked, problems };
}

if (require.main === module) {
  const root = resolve(process.argv[2] ?? join(__dirname, '..'));
  const { files, problems } = checkRepository(root);
  if (problems.length === 0) {
    console.log(`check:pins: ${files} files, everything pinned`);
  } else {
    for (const { file, where, problem } of problems) console.error(`${file}: ${where}: ${problem}`);
    console.error(`check:pins: ${problems.length} unpinned in ${files} files`);
    process.exitCode = 1;
  }
}
