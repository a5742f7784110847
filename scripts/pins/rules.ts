/**
 * What "pinned" means for ibstack, as pure functions over file contents. A pinned build gets the same
 * bytes every time: container images by an exact version tag or a digest, npm packages by an exact
 * version with a lockfile, GitHub Actions by commit and runner image by version.
 *
 * - A pulled image needs a digest, or a tag holding a version with at least major.minor (`postgres:15.13`,
 *   `nats:2.10.29-alpine`); a bare major (`node:20`), a word (`latest`, `stable`, `alpine`) or no tag at
 *   all floats. An image we build ourselves (compose `build:`) only names the result: any tag but
 *   `latest` or none.
 * - A tag that comes from a variable needs a default that is itself pinned (`${IBSTACK_VERSION:-0.1.0}`).
 * - Every dependency in every package.json is an exact version (`1.2.3`, `1.2.3-rc.1`), an `npm:` alias
 *   of one, or a git URL ending in a full commit hash. No `^`, `~`, `>=`, `*`, `x`, tags or ranges.
 * - The lockfile exists and lists, for the root and every workspace, the same dependencies as its
 *   package.json (`npm ci` would refuse otherwise, but later and with a less clear message).
 */
import { interpolate } from '../../packages/stack/test/compose/compose-file';

export interface PinProblem {
  /** Path relative to the repository root. */
  readonly file: string;
  /** Where in the file: a service, a stage, a dependency field. */
  readonly where: string;
  readonly problem: string;
}

const DIGEST = /@sha256:[0-9a-f]{64}$/;
const EXACT_VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
const COMMIT = /#[0-9a-f]{40}$/;

/** Splits `registry:5000/name:tag@digest` into its name and tag (the registry's port is not a tag). */
export function imageTag(reference: string): string | undefined {
  const withoutDigest = reference.replace(/@.*$/, '');
  const lastSegment = withoutDigest.split('/').at(-1) ?? '';
  const colon = lastSegment.lastIndexOf(':');
  return colon < 0 ? undefined : lastSegment.slice(colon + 1);
}

/** Why an image reference is not pinned, or null when it is. */
export function imageProblem(reference: string, options: { built?: boolean } = {}): string | null {
  if (reference.includes('${') || reference.includes('$')) {
    let resolved: string;
    try {
      resolved = interpolate(reference, {});
    } catch {
      return `${reference}: its tag needs a variable that has no default`;
    }
    const problem = imageProblem(resolved, options);
    return problem === null ? null : `${reference} (by default ${resolved}): ${problem}`;
  }
  if (reference === 'scratch' || DIGEST.test(reference)) return null;
  const tag = imageTag(reference);
  if (tag === undefined || tag === '') return 'no tag, so it means latest';
  if (tag === 'latest') return 'the latest tag floats';
  if (options.built) return null;
  if (!/\d+\.\d+/.test(tag)) return `tag ${tag} floats: name a major.minor version at least, or a digest`;
  return null;
}

/** Why a dependency's version specification is not exact, or null when it is. */
export function versionSpecProblem(spec: string): string | null {
  if (EXACT_VERSION.test(spec)) return null;
  const alias = /^npm:(?:@[^/]+\/)?[^@]+@(.+)$/.exec(spec);
  if (alias) return versionSpecProblem(alias[1]!);
  if (/^(git\+|git:|github:|https?:)/.test(spec))
    return COMMIT.test(spec) ? null : `${spec} is not pinned to a commit (end it with #<40-hex commit>)`;
  if (/^(file|link|workspace):/.test(spec)) return `${spec}: use the workspace's exact version instead`;
  return `${spec} is a range or a tag, not an exact version`;
}

const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];

interface PackageJson {
  name?: string;
  workspaces?: string[];
  overrides?: Record<string, unknown>;
  [field: string]: unknown;
}

export function packageJsonProblems(file: string, json: PackageJson): PinProblem[] {
  const problems: PinProblem[] = [];
  for (const field of DEPENDENCY_FIELDS) {
    const dependencies = (json[field] ?? {}) as Record<string, string>;
    for (const [name, spec] of Object.entries(dependencies)) {
      const problem = versionSpecProblem(spec);
      if (problem) problems.push({ file, where: `${field}.${name}`, problem });
    }
  }
  const visitOverrides = (overrides: Record<string, unknown>, path: string) => {
    for (const [name, value] of Object.entries(overrides)) {
      if (typeof value === 'string') {
        const problem = value.startsWith('$') ? null : versionSpecProblem(value);
        if (problem) problems.push({ file, where: `${path}.${name}`, problem });
      } else if (value && typeof value === 'object') {
        visitOverrides(value as Record<string, unknown>, `${path}.${name}`);
      }
    }
  };
  if (json.overrides) visitOverrides(json.overrides, 'overrides');
  return problems;
}

interface Lockfile {
  lockfileVersion?: number;
  packages?: Record<string, Record<string, unknown>>;
}

/**
 * The lockfile against every package.json of the workspace: `workspaces` maps a workspace's folder
 * (`services/execution`, '' for the root) to its package.json.
 */
export function lockfileProblems(
  lockfileName: string,
  lockfile: Lockfile | undefined,
  workspaces: ReadonlyMap<string, PackageJson>,
): PinProblem[] {
  if (!lockfile)
    return [
      { file: lockfileName, where: 'repository', problem: 'no lockfile: run `npm install` and commit it' },
    ];
  if ((lockfile.lockfileVersion ?? 1) < 2 || !lockfile.packages)
    return [
      {
        file: lockfileName,
        where: 'lockfileVersion',
        problem: 'lockfile version 1 has no per-workspace entries; regenerate it with npm 7 or later',
      },
    ];
  const problems: PinProblem[] = [];
  for (const [folder, json] of workspaces) {
    const locked = lockfile.packages[folder];
    const label = folder === '' ? 'root' : folder;
    if (!locked) {
      problems.push({ file: lockfileName, where: label, problem: `${label} is missing from the lockfile` });
      continue;
    }
    for (const field of DEPENDENCY_FIELDS) {
      const wanted = (json[field] ?? {}) as Record<string, string>;
      const have = (locked[field] ?? {}) as Record<string, string>;
      for (const name of new Set([...Object.keys(wanted), ...Object.keys(have)]))
        if (wanted[name] !== have[name])
          problems.push({
            file: lockfileName,
            where: `${label} ${field}.${name}`,
            problem: `package.json says ${wanted[name] ?? 'nothing'}, the lockfile ${have[name] ?? 'nothing'}: run \`npm install\``,
          });
    }
  }
  return problems;
}

interface ComposeService {
  image?: string;
  build?: unknown;
}

/** Images of a compose file, read as written (variables resolved to their defaults). */
export function composeProblems(
  file: string,
  document: { services?: Record<string, ComposeService> },
): PinProblem[] {
  const problems: PinProblem[] = [];
  for (const [name, service] of Object.entries(document.services ?? {})) {
    if (service.image === undefined) {
      if (service.build === undefined)
        problems.push({ file, where: `services.${name}`, problem: 'neither an image nor a build' });
      else
        problems.push({
          file,
          where: `services.${name}`,
          problem: 'a build with no image: name the result with a version tag',
        });
      continue;
    }
    const problem = imageProblem(service.image, { built: service.build !== undefined });
    if (problem) problems.push({ file, where: `services.${name}.image`, problem });
    if (typeof service.build === 'object' && service.build !== null) {
      const context = (service.build as { context?: string }).context ?? '';
      if (/^(https?:|git@|github\.com)/.test(context) && !COMMIT.test(context))
        problems.push({
          file,
          where: `services.${name}.build.context`,
          problem: `${context} is not pinned to a commit`,
        });
    }
  }
  return problems;
}

/** FROM lines of a Dockerfile, `ARG` defaults resolved; references to earlier stages are fine. */
export function dockerfileProblems(file: string, text: string): PinProblem[] {
  const problems: PinProblem[] = [];
  const args: Record<string, string> = {};
  const stages = new Set<string>();
  for (const rawLine of text.replace(/\\\n/g, ' ').split('\n')) {
    const line = rawLine.trim();
    const arg = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)/i.exec(line);
    if (arg && stages.size === 0) args[arg[1]!] = arg[2]!.replace(/^"(.*)"$/, '$1');
    const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!from) continue;
    const image = from[1]!.replace(
      /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
      (_, name: string) => args[name] ?? '',
    );
    if (!stages.has(image)) {
      const problem = imageProblem(image);
      if (problem) problems.push({ file, where: `FROM ${from[1]}`, problem });
    }
    if (from[2]) stages.add(from[2]);
  }
  return problems;
}

/** `runs-on` needs a versioned runner image; `uses` a full commit hash (tags can be moved). */
export function workflowProblems(file: string, text: string): PinProblem[] {
  const problems: PinProblem[] = [];
  text.split('\n').forEach((line, index) => {
    const where = `line ${index + 1}`;
    const runsOn = /^\s*runs-on:\s*(\S+)/.exec(line);
    if (runsOn && /-latest$/.test(runsOn[1]!))
      problems.push({ file, where, problem: `runs-on ${runsOn[1]} floats: name the version (ubuntu-24.04)` });
    const uses = /^\s*-?\s*uses:\s*(\S+)/.exec(line);
    if (uses && !uses[1]!.startsWith('./') && !/@[0-9a-f]{40}$/.test(uses[1]!))
      problems.push({ file, where, problem: `uses ${uses[1]}: pin the action to a full commit hash` });
    const image = /^\s*(?:image|container):\s*(\S+)/.exec(line);
    if (image && !image[1]!.startsWith('${{')) {
      const problem = imageProblem(image[1]!);
      if (problem) problems.push({ file, where, problem });
    }
  });
  return problems;
}
