/**
 * Reading docker-compose.yml and the Dockerfile the way Docker would, for the checks that stand in for a
 * Docker engine: YAML with merge keys, `${VAR:-default}` interpolation from a given environment (never the
 * test process's own), profiles, and the Dockerfile's targets with their CMD.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

export const REPO = join(__dirname, '..', '..', '..', '..');
export const COMPOSE_FILE = join(REPO, 'docker-compose.yml');
export const DOCKERFILE = join(REPO, 'Dockerfile');

export type Env = Readonly<Record<string, string | undefined>>;

export interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
  interval?: string;
}

export interface DependsOnEntry {
  condition?: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  required?: boolean;
}

export interface ComposeService {
  image?: string;
  build?: string | { context: string; target?: string; dockerfile?: string };
  profiles?: string[];
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  secrets?: Array<string | { source: string; target?: string }>;
  depends_on?: string[] | Record<string, DependsOnEntry>;
  healthcheck?: Healthcheck;
  restart?: string;
  logging?: { driver?: string; options?: Record<string, string> };
  mem_limit?: string | number;
  deploy?: { resources?: { limits?: { memory?: string } } };
  ports?: Array<string | { published?: string | number; host_ip?: string; target?: number }>;
  volumes?: Array<string | { type?: string; source?: string; target?: string }>;
  user?: string;
}

export interface ComposeDocument {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string; environment?: string }>;
  [key: string]: unknown;
}

const VARIABLE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Compose's interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`. */
export function interpolate(text: string, env: Env): string {
  return text.replace(
    VARIABLE,
    (match, braced: string | undefined, operator: string | undefined, argument: string, bare: string) => {
      if (match === '$$') return '$';
      const name = braced ?? bare;
      const value = env[name];
      const unsetOrEmpty = value === undefined || value === '';
      switch (operator) {
        case ':-':
          return unsetOrEmpty ? argument : value;
        case '-':
          return value === undefined ? argument : value;
        case ':?':
        case '?':
          if (operator === ':?' ? unsetOrEmpty : value === undefined)
            throw new Error(`required variable ${name} is missing: ${argument}`);
          return value ?? '';
        default:
          return value ?? '';
      }
    },
  );
}

function interpolateDeep(value: unknown, env: Env): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((item) => interpolateDeep(item, env));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, interpolateDeep(inner, env)]),
    );
  return value;
}

/** The file as parsed, merge keys resolved, variables left as written. */
export function readComposeRaw(file = COMPOSE_FILE): ComposeDocument {
  return parse(readFileSync(file, 'utf8'), { merge: true }) as ComposeDocument;
}

/** The file as compose sees it under `env` (the shell plus .env). */
export function readCompose(env: Env, file = COMPOSE_FILE): ComposeDocument {
  return interpolateDeep(readComposeRaw(file), env) as ComposeDocument;
}

/** Services that `docker compose up` starts under `COMPOSE_PROFILES` from env. */
export function activeServices(document: ComposeDocument, env: Env): string[] {
  const profiles = new Set(
    (env.COMPOSE_PROFILES ?? '')
      .split(',')
      .map((profile) => profile.trim())
      .filter(Boolean),
  );
  return Object.entries(document.services)
    .filter(([, service]) => !service.profiles || service.profiles.some((profile) => profiles.has(profile)))
    .map(([name]) => name);
}

export function environmentOf(service: ComposeService): Record<string, string> {
  const environment = service.environment ?? {};
  if (Array.isArray(environment))
    return Object.fromEntries(
      environment.map((entry) => {
        const at = entry.indexOf('=');
        return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  return Object.fromEntries(
    Object.entries(environment).map(([key, value]) => [key, value === null ? '' : String(value)]),
  );
}

export function secretsOf(service: ComposeService): string[] {
  return (service.secrets ?? []).map((secret) => (typeof secret === 'string' ? secret : secret.source));
}

export function dependsOn(service: ComposeService): Record<string, DependsOnEntry> {
  const entries = service.depends_on ?? {};
  if (Array.isArray(entries))
    return Object.fromEntries(entries.map((name) => [name, { condition: 'service_started' as const }]));
  return entries;
}

export function buildTarget(service: ComposeService): string | undefined {
  return typeof service.build === 'object' ? service.build.target : undefined;
}

export interface DockerfileStage {
  name: string;
  from: string;
  /** CMD in exec form; undefined when the stage sets none (then it inherits). */
  cmd?: string[];
  /** Whether the stage sets HEALTHCHECK (NONE counts as false). */
  healthcheck?: boolean;
}

/** Stages of a Dockerfile with their CMD (exec form only; a shell-form CMD is reported as ['/bin/sh', …]). */
export function readDockerfile(file = DOCKERFILE): {
  args: Record<string, string>;
  stages: DockerfileStage[];
} {
  const text = readFileSync(file, 'utf8').replace(/\\\n/g, ' ');
  const args: Record<string, string> = {};
  const stages: DockerfileStage[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) continue;
    const [instruction = '', ...rest] = line.split(/\s+/);
    const argument = rest.join(' ');
    const current = stages.at(-1);
    switch (instruction.toUpperCase()) {
      case 'ARG': {
        const [name = '', value] = argument.split('=');
        if (value !== undefined && stages.length === 0) args[name] = value;
        break;
      }
      case 'FROM': {
        const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(argument);
        if (!match) throw new Error(`cannot read FROM ${argument}`);
        const from = (match[1] ?? '').replace(
          /^\$\{?([A-Za-z_]+)\}?$/,
          (_, name: string) => args[name] ?? '',
        );
        const parent = stages.find((stage) => stage.name === from);
        stages.push({
          name: match[2] ?? `stage-${stages.length}`,
          from,
          cmd: parent?.cmd,
          healthcheck: parent?.healthcheck,
        });
        break;
      }
      case 'CMD':
        if (current)
          current.cmd = argument.startsWith('[')
            ? (JSON.parse(argument) as string[])
            : ['/bin/sh', '-c', argument];
        break;
      case 'HEALTHCHECK':
        if (current) current.healthcheck = !/^NONE$/i.test(argument);
        break;
      default:
        break;
    }
  }
  return { args, stages };
}

/** `image:tag` or `image@sha256:…` with a tag that is not `latest`. */
export function isPinnedImage(reference: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(reference)) return true;
  const lastSegment = reference.split('/').at(-1) ?? '';
  const tag = lastSegment.includes(':') ? lastSegment.split(':').at(-1) : undefined;
  return tag !== undefined && tag !== '' && tag !== 'latest';
}
