import { readFileSync } from 'node:fs';

import { type z } from 'zod';

import { ConfigError } from './errors';

export type Env = Readonly<Record<string, string | undefined>>;

/** A check across variables: returns one line per problem, empty when fine. */
export type ConfigCheck = (env: Readonly<Record<string, string | undefined>>) => string[];

export interface LoadOptions {
  checks?: readonly ConfigCheck[];
}

/**
 * Resolves `NAME_FILE` (docker secrets): for every declared variable, a `NAME_FILE` variable names a file
 * whose contents (without the trailing newline) become `NAME`. Setting both is an error, because it is
 * never clear which one the operator meant.
 */
function resolveFileVariables(
  names: readonly string[],
  env: Env,
  problems: string[],
): { resolved: Record<string, string | undefined>; unreadable: Set<string> } {
  const resolved: Record<string, string | undefined> = {};
  const unreadable = new Set<string>(); // already reported, not to be reported again as missing
  for (const name of names) {
    const direct = env[name];
    const file = env[`${name}_FILE`];
    if (file !== undefined && file !== '') {
      if (direct !== undefined && direct !== '') {
        problems.push(`${name}: set either ${name} or ${name}_FILE, not both`);
        unreadable.add(name);
        continue;
      }
      try {
        const contents = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
        // An empty secret file is a setup mistake (a secret never written), not a value to validate.
        if (contents.trim() === '') {
          problems.push(`${name}_FILE: "${file}" is empty`);
          unreadable.add(name);
          continue;
        }
        resolved[name] = contents;
      } catch (error) {
        const reason = (error as { code?: string }).code ?? String(error);
        problems.push(`${name}_FILE: cannot read "${file}" (${reason})`);
        unreadable.add(name);
      }
      continue;
    }
    // An empty variable is treated as unset, so `FOO=` in a compose file falls back to the default.
    resolved[name] = direct === '' ? undefined : direct;
  }
  return { resolved, unreadable };
}

function describeIssue(issue: z.core.$ZodIssue, env: Record<string, string | undefined>): string {
  const name = issue.path.map(String).join('.') || '(environment)';
  const value = env[name];
  if (value === undefined && (issue.code === 'invalid_type' || issue.message.includes('undefined'))) {
    return `${name}: is required but not set`;
  }
  return `${name}: ${issue.message}`;
}

/**
 * Parses the environment against a service's schema. The schema's keys are the variable names; string
 * values are coerced by the schema itself (`z.coerce.number()`, `booleanFlag`). Returns a frozen object
 * or throws one ConfigError naming every problem.
 */
export function loadConfig<S extends z.ZodObject>(
  service: string,
  schema: S,
  env: Env = process.env,
  options: LoadOptions = {},
): Readonly<z.infer<S>> {
  const problems: string[] = [];
  const names = Object.keys(schema.shape);
  const { resolved, unreadable } = resolveFileVariables(names, env, problems);
  const parsed = schema.safeParse(resolved);
  if (!parsed.success) {
    const issues: readonly z.core.$ZodIssue[] = parsed.error.issues;
    for (const issue of issues) {
      // A variable whose file could not be read is already reported once.
      const variable = String(issue.path[0]);
      if (unreadable.has(variable)) continue;
      problems.push(describeIssue(issue, resolved));
    }
  }
  // Cross-variable checks see the raw values, so their problems are listed even when a field failed.
  for (const check of options.checks ?? []) problems.push(...check(resolved));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(service, problems);
  return Object.freeze(parsed.data);
}

/**
 * `loadConfig` for `main.ts`: on a bad environment it prints the one message and exits non-zero, since a
 * service with half a configuration must not start.
 */
export function loadConfigOrExit<S extends z.ZodObject>(
  service: string,
  schema: S,
  env: Env = process.env,
  options: LoadOptions = {},
): Readonly<z.infer<S>> {
  try {
    return loadConfig(service, schema, env, options);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
