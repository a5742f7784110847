/**
 * scripts/deploy.sh for real (git, flock, jq, bash) with a stand-in `docker` on PATH that records every
 * call and answers from files (our machines have no Docker engine): a deploy that passes its gate; one
 * that fails it and rolls back; a failed backup or build that changes nothing; a first deploy; one already
 * there; a second deploy while one runs; an unknown commit. The gate itself against a real running stack
 * is tested in services/backup/test/restore-stack.int.test.ts and packages/stack/test/health-gate.
 * Then .github/workflows/deploy.yml: its steps run with a stand-in `ssh`, secrets never echoed.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runCommand, runCommandOk, spawnProcess } from '@ibstack/test-kit';
import { parse } from 'yaml';

const REPO = join(__dirname, '..', '..');
const STAND_INS = join(__dirname, 'stand-ins');

const COMPOSE_CONFIG = {
  services: {
    postgres: { image: 'postgres:15.13-bookworm', restart: 'unless-stopped' },
    migrate: {
      image: 'ibstack/migrate:x',
      restart: 'no',
      environment: { DATABASE_URL_FILE: '/run/secrets/database_url' },
    },
    execution: {
      image: 'ibstack/execution:x',
      restart: 'unless-stopped',
      environment: { HTTP_PORT: '9403' },
    },
    backup: { image: 'ibstack/backup:x', restart: 'unless-stopped', environment: { HTTP_PORT: '9404' } },
  },
};

describe('scripts/deploy.sh', () => {
  let work: string;
  let host: string;
  let fake: string;
  let bin: string;
  const commits: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
  const short = (commit: string) => commit.slice(0, 12);

  const git = async (cwd: string, ...args: string[]) =>
    (await runCommandOk('git', args, { cwd })).stdout.trim();

  beforeEach(async () => {
    work = mkdtempSync(join(tmpdir(), 'ibstack-deploy-'));
    const origin = join(work, 'origin');
    mkdirSync(join(origin, 'scripts'), { recursive: true });
    await git(origin, 'init', '-q', '-b', 'main');
    await git(origin, 'config', 'user.email', 'test@ibstack.invalid');
    await git(origin, 'config', 'user.name', 'deploy test');
    cpSync(join(REPO, 'scripts', 'deploy.sh'), join(origin, 'scripts', 'deploy.sh'));
    writeFileSync(join(origin, '.gitignore'), '.env\n.deploy/\n');
    for (const name of ['a', 'b', 'c'] as const) {
      writeFileSync(join(origin, 'VERSION'), `${name}\n`);
      await git(origin, 'add', '-A');
      await git(origin, 'commit', '-q', '-m', `version ${name}`);
      commits[name] = await git(origin, 'rev-parse', 'HEAD');
    }
    host = join(work, 'host');
    await git(work, 'clone', '-q', origin, host);
    fake = join(work, 'docker');
    mkdirSync(fake);
    writeFileSync(join(fake, 'config.json'), JSON.stringify(COMPOSE_CONFIG));
    bin = join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(join(STAND_INS, 'docker.sh'), join(bin, 'docker'));
  });

  afterEach(() => rmSync(work, { recursive: true, force: true }));

  /** The host as an earlier run of deploy.sh left it: `commit` checked out, running, recorded. */
  async function deployed(commit: string): Promise<void> {
    await git(host, 'checkout', '-q', '--detach', commit);
    mkdirSync(join(host, '.deploy'), { recursive: true });
    writeFileSync(join(host, '.deploy', 'current'), `${commit}\n`);
    writeFileSync(join(host, '.env'), `PROXY_HOSTNAMES=vps.example.com\nIBSTACK_VERSION=${short(commit)}\n`);
    writeFileSync(join(fake, 'running'), 'postgres\nexecution\n');
    writeFileSync(join(fake, 'up'), `${short(commit)}\n`);
  }

  const deploy = (commit: string, env: Record<string, string> = {}) =>
    runCommand(join(host, 'scripts', 'deploy.sh'), [commit], {
      cwd: host,
      env: { PATH: `${bin}:${process.env.PATH}`, FAKE_DOCKER_DIR: fake, DEPLOY_GATE_SECONDS: '20', ...env },
      timeoutMs: 60_000,
    });
  const calls = () =>
    existsSync(join(fake, 'calls'))
      ? readFileSync(join(fake, 'calls'), 'utf8')
          .trim()
          .split('\n')
          .map((line) => line.replace(/--since \S+ --timeout \d+/, '--since <t> --timeout <s>'))
      : [];
  const logLines = () =>
    readFileSync(join(host, '.deploy', 'deployments.log'), 'utf8')
      .trim()
      .split('\n');
  const head = () => git(host, 'rev-parse', 'HEAD');
  const current = () => readFileSync(join(host, '.deploy', 'current'), 'utf8').trim();
  const envFile = () => readFileSync(join(host, '.env'), 'utf8');

  it('backs up with the running version, builds and starts the new one, and keeps it when the gate passes', async () => {
    await deployed(commits.a);
    const result = await deploy(commits.b);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [a, b] = [short(commits.a), short(commits.b)];
    expect(calls()).toEqual([
      `version=${a} compose ps --status running --services`,
      `version=${a} compose run --rm --no-deps -T backup node services/backup/src/cli.js backup --reason deploy`,
      `version=${b} compose pull --quiet --ignore-buildable`,
      `version=${b} compose build --quiet`,
      `version=${b} compose up --detach --remove-orphans`,
      `version=${b} compose ps --all --format {{.Service}} {{.State}} {{.Health}} {{.ExitCode}}`,
      `version=${b} compose config --format json`,
      `version=${b} compose run --rm --no-deps -T migrate node packages/stack/src/cli/health-gate.js --since <t> --timeout <s> --service execution=http://execution:9403 --service backup=http://backup:9404`,
    ]);
    expect(await head()).toBe(commits.b);
    expect(current()).toBe(commits.b);
    // Later `docker compose` by hand uses the deployed images; the operator's settings stay.
    expect(envFile()).toBe(`PROXY_HOSTNAMES=vps.example.com\nIBSTACK_VERSION=${b}\n`);
    expect(logLines()).toEqual([
      expect.stringMatching(
        new RegExp(
          `^time=\\S+Z from=${a} to=${b} result=success backup=ibstack-20261203T150000\\.000Z-deploy seconds=\\d+ why="health gate passed"$`,
        ),
      ),
    ]);
    expect(result.stdout).toMatch(/deploy: health gate passed in 3 s/);
    expect(result.stdout.trim().split('\n').at(-1)).toBe(logLines()[0]);
  });

  it('rolls back to the previous commit and images when the new version fails its gate', async () => {
    await deployed(commits.a);
    const [a, b] = [short(commits.a), short(commits.b)];
    writeFileSync(join(fake, 'gate-fails'), `${b}\n`);
    const result = await deploy(commits.b);
    expect(result.code).toBe(1);
    expect(calls().slice(4)).toEqual([
      `version=${b} compose up --detach --remove-orphans`,
      `version=${b} compose ps --all --format {{.Service}} {{.State}} {{.Health}} {{.ExitCode}}`,
      `version=${b} compose config --format json`,
      expect.stringMatching(
        new RegExp(`^version=${b} compose run .* migrate node packages/stack/src/cli/health-gate\\.js `),
      ),
      `version=${a} compose up --detach --remove-orphans`,
      `version=${a} compose ps --all --format {{.Service}} {{.State}} {{.Health}} {{.ExitCode}}`,
      `version=${a} compose config --format json`,
      expect.stringMatching(
        new RegExp(`^version=${a} compose run .* migrate node packages/stack/src/cli/health-gate\\.js `),
      ),
    ]);
    expect(await head()).toBe(commits.a);
    expect(current()).toBe(commits.a);
    expect(envFile()).toMatch(new RegExp(`^IBSTACK_VERSION=${a}$`, 'm'));
    expect(logLines()[0]).toMatch(
      new RegExp(
        `from=${a} to=${b} result=rolled-back backup=ibstack-\\S+-deploy seconds=\\d+ why="health gate failed after 5 s: execution not ready \\(/readyz 503\\); ${a} is back and healthy"$`,
      ),
    );
  });

  it('rolls back when the containers stay unhealthy, and says so when the old version is unhealthy too', async () => {
    await deployed(commits.a);
    const [a, b] = [short(commits.a), short(commits.b)];
    writeFileSync(join(fake, 'unhealthy'), `${b}\n`);
    writeFileSync(join(fake, 'gate-fails'), `${a}\n`);
    const result = await deploy(commits.b, { DEPLOY_GATE_SECONDS: '4' });
    expect(result.code).toBe(1);
    // No readiness check for a version whose containers never became healthy.
    expect(
      calls().filter((call) => call.startsWith(`version=${b}`) && call.includes('health-gate.js')),
    ).toEqual([]);
    expect(await head()).toBe(commits.a);
    expect(logLines()[0]).toMatch(
      new RegExp(
        `result=rolled-back-unhealthy .* why="health gate: containers not healthy after 4 s: execution unhealthy; ${a} is back but not healthy: health gate failed after 5 s: execution not ready \\(/readyz 503\\)"$`,
      ),
    );
  });

  it('changes nothing when the backup fails', async () => {
    await deployed(commits.a);
    writeFileSync(join(fake, 'backup-fails'), '');
    const result = await deploy(commits.b);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/pg_dump exited 1/);
    expect(calls()).toHaveLength(2);
    expect(await head()).toBe(commits.a);
    expect(current()).toBe(commits.a);
    expect(logLines()[0]).toMatch(
      /result=failed backup=none .* why="the backup before the deploy failed; nothing changed"$/,
    );
  });

  it('leaves the running version alone when the build fails', async () => {
    await deployed(commits.a);
    writeFileSync(join(fake, 'build-fails'), '');
    const result = await deploy(commits.b);
    expect(result.code).toBe(1);
    expect(calls().some((call) => call.includes(' up '))).toBe(false);
    expect(await head()).toBe(commits.a);
    expect(envFile()).toMatch(new RegExp(`^IBSTACK_VERSION=${short(commits.a)}$`, 'm'));
    expect(logLines()[0]).toMatch(
      /result=failed .* why="pulling or building \w+ failed; the running version was not touched"$/,
    );
  });

  it('deploys onto a fresh host without a backup, and fails without a rollback when the first version is unhealthy', async () => {
    const first = await deploy(commits.a);
    expect(first.code).toBe(0);
    expect(calls()[0]).toBe('version= compose ps --status running --services');
    expect(calls().some((call) => call.includes('backup --reason deploy'))).toBe(false);
    expect(logLines()[0]).toMatch(new RegExp(`from=none to=${short(commits.a)} result=success backup=none`));

    rmSync(join(host, '.deploy', 'current'));
    writeFileSync(join(fake, 'gate-fails'), `${short(commits.b)}\n`);
    const second = await deploy(commits.b);
    expect(second.code).toBe(1);
    expect(logLines()[1]).toMatch(/result=failed .* why=".*; no earlier deployed version to roll back to"$/);
  });

  it('does nothing for the commit already deployed, or an unknown one', async () => {
    await deployed(commits.a);
    const same = await deploy(commits.a);
    expect(same.code).toBe(0);
    expect(logLines()[0]).toMatch(/result=unchanged .* why="\w+ is deployed already"$/);
    const unknown = await deploy('0123456789abcdef0123456789abcdef01234567');
    expect(unknown.code).toBe(1);
    expect(logLines()[1]).toMatch(
      /result=failed .* why="unknown commit 0123456789abcdef0123456789abcdef01234567; nothing changed"$/,
    );
    expect(calls()).toEqual([]);
  });

  it('refuses to run beside another deploy (exit 75)', async () => {
    await deployed(commits.a);
    const holder = spawnProcess('flock', [
      join(host, '.deploy', 'deploy.lock'),
      'sh',
      '-c',
      'echo locked; sleep 60',
    ]);
    try {
      await holder.waitForLine('locked');
      const result = await deploy(commits.b);
      expect(result.code).toBe(75);
      expect(result.stderr).toMatch(/another deploy is running/);
      expect(calls()).toEqual([]);
    } finally {
      await holder.kill();
    }
  });

  it('needs exactly one commit', async () => {
    const result = await deploy('');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/usage: scripts\/deploy\.sh <commit>/);
  });
});

describe('.github/workflows/deploy.yml', () => {
  interface Step {
    name: string;
    env?: Record<string, string>;
    run: string;
    if?: string;
    uses?: string;
  }
  const workflow = parse(readFileSync(join(REPO, '.github', 'workflows', 'deploy.yml'), 'utf8')) as {
    on: { push: { branches: string[] } };
    concurrency: { group: string; 'cancel-in-progress': boolean };
    jobs: { deploy: { 'runs-on': string; steps: Step[] } };
  };
  const steps = workflow.jobs.deploy.steps;

  it('deploys every push to main, one at a time, never cancelling one half-way', () => {
    expect(workflow.on.push.branches).toEqual(['main']);
    expect(workflow.concurrency).toEqual({ group: 'deploy', 'cancel-in-progress': false });
    expect(steps.some((step) => step.uses)).toBe(false); // no third-party action sees the secrets
  });

  it('passes secrets only through step environments, never into a command line', () => {
    for (const step of steps) {
      expect(step.run).not.toMatch(/\$\{\{\s*secrets\./);
      expect(step.run).not.toMatch(/set -x|echo .*\$DEPLOY_/);
      for (const value of Object.values(step.env ?? {}))
        expect(value).toMatch(/^\$\{\{ secrets\.[A-Z_]+ \}\}$/);
    }
  });

  it('runs: writes the key private, SSHes with the checked host key to deploy.sh, echoes no secret, and forgets the key', async () => {
    const home = mkdtempSync(join(tmpdir(), 'ibstack-workflow-'));
    const bin = join(home, 'bin');
    mkdirSync(bin);
    symlinkSync(join(STAND_INS, 'ssh.sh'), join(bin, 'ssh'));
    const secrets = {
      DEPLOY_SSH_KEY:
        '-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END OPENSSH PRIVATE KEY-----',
      DEPLOY_KNOWN_HOSTS: 'vps.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheVps',
      DEPLOY_HOST: 'vps.example.com',
      DEPLOY_USER: 'ibstack',
    };
    try {
      let output = '';
      for (const step of steps) {
        const env: Record<string, string> = {
          HOME: home,
          PATH: `${bin}:${process.env.PATH}`,
          GITHUB_SHA: '3f2a9c0d1e2b3a4f5c6d7e8f9a0b1c2d3e4f5a6b',
          FAKE_SSH_LOG: join(home, 'ssh.log'),
        };
        for (const [name, value] of Object.entries(step.env ?? {}))
          env[name] = secrets[/secrets\.([A-Z_]+)/.exec(value)![1] as keyof typeof secrets];
        // As GitHub runs a `run:` step: bash -e, no tracing.
        const result = await runCommand(
          'bash',
          ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run],
          { env },
        );
        expect({ step: step.name, code: result.code }).toEqual({ step: step.name, code: 0 });
        output += result.stdout + result.stderr;
      }
      for (const value of Object.values(secrets).filter((secret) => secret.length > 12))
        expect(output).not.toContain(value);
      const ssh = readFileSync(join(home, 'ssh.log'), 'utf8');
      expect(ssh).toContain(`key-mode: 600`);
      expect(ssh).toMatch(/-o StrictHostKeyChecking=yes/);
      expect(ssh).toMatch(/-o UserKnownHostsFile=\S+\/\.ssh\/deploy_known_hosts/);
      expect(ssh).toMatch(
        / ibstack@vps\.example\.com cd\\ \/opt\/ibstack\\ \\&\\&\\ scripts\/deploy\.sh\\ 3f2a9c0d1e2b3a4f5c6d7e8f9a0b1c2d3e4f5a6b$/m,
      );
      expect(existsSync(join(home, '.ssh', 'deploy_key'))).toBe(false);
    } finally {
      chmodSync(home, 0o700);
      rmSync(home, { recursive: true, force: true });
    }
  });
});
