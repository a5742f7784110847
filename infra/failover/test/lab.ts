/**
 * Hosts on one machine for the failover drill: network namespaces joined by a bridge (the "internet"
 * between the hosts, in the ibkr namespace, where the simulated gateway runs), and userspace WireGuard
 * (wireguard-go + wg) between the primary, the standby and the witness, configured from the files
 * infra/wireguard/gen-keys.sh renders. The test's own process reaches the bridge through one veth, so it
 * can read the hosts' HTTP endpoints and databases. Everything has a per-run name, and `destroy()`
 * kills every process in the namespaces and deletes them.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { spawnProcess, type SpawnedProcess } from '@ibstack/test-kit';

const run = promisify(execFile);

export async function sh(command: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run(command, args, { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const failure = error as Error & { stderr?: string; stdout?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed: ${failure.stderr || failure.stdout || failure.message}`,
    );
  }
}

export const HOSTS = ['primary', 'standby', 'witness'] as const;
export type HostName = (typeof HOSTS)[number];
export type NamespaceName = HostName | 'ibkr';

/** WireGuard addresses, as in infra/wireguard/templates. */
export const WIREGUARD_ADDRESS: Record<HostName, string> = {
  primary: '10.77.0.1',
  standby: '10.77.0.2',
  witness: '10.77.0.3',
};

export class Lab {
  /** Underlay addresses on the bridge (a /24 of its own per run). */
  readonly underlay: Record<NamespaceName | 'test', string>;
  private readonly created: string[] = [];
  private readonly id: string;

  constructor(
    readonly dir: string,
    private readonly repoRoot: string,
  ) {
    this.id = (process.pid % 10_000).toString(36) + Math.floor(Math.random() * 36 ** 2).toString(36);
    const subnet = `10.251.${(process.pid % 200) + 20}`;
    this.underlay = {
      primary: `${subnet}.1`,
      standby: `${subnet}.2`,
      witness: `${subnet}.3`,
      ibkr: `${subnet}.10`,
      test: `${subnet}.100`,
    };
  }

  ns(name: NamespaceName): string {
    return `fo${this.id}-${name}`;
  }

  private wgInterface(host: HostName): string {
    return `wg${this.id}${host[0]}`;
  }

  async exec(name: NamespaceName, command: string, args: readonly string[]): Promise<string> {
    return sh('ip', ['netns', 'exec', this.ns(name), command, ...args]);
  }

  /** A long-lived process inside a namespace (`ip netns exec` execs it: the pid is the process's). */
  spawn(
    name: NamespaceName,
    command: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv = {},
  ): SpawnedProcess {
    return spawnProcess('ip', ['netns', 'exec', this.ns(name), command, ...args], env);
  }

  async create(): Promise<void> {
    const bridge = `br${this.id}`;
    for (const name of [...HOSTS, 'ibkr'] as const) {
      await sh('ip', ['netns', 'add', this.ns(name)]);
      this.created.push(this.ns(name));
      await this.exec(name, 'ip', ['link', 'set', 'lo', 'up']);
    }
    await this.exec('ibkr', 'ip', ['link', 'add', bridge, 'type', 'bridge']);
    await this.exec('ibkr', 'ip', ['addr', 'add', `${this.underlay.ibkr}/24`, 'dev', bridge]);
    await this.exec('ibkr', 'ip', ['link', 'set', bridge, 'up']);
    for (const host of HOSTS) {
      const outer = `v${this.id}${host[0]}o`;
      await sh('ip', [
        'link',
        'add',
        'eth0',
        'netns',
        this.ns(host),
        'type',
        'veth',
        'peer',
        'name',
        outer,
        'netns',
        this.ns('ibkr'),
      ]);
      await this.exec(host, 'ip', ['addr', 'add', `${this.underlay[host]}/24`, 'dev', 'eth0']);
      await this.exec(host, 'ip', ['link', 'set', 'eth0', 'up']);
      await this.exec('ibkr', 'ip', ['link', 'set', outer, 'master', bridge, 'up']);
    }
    // The test's own way in: one veth from this process's namespace onto the bridge.
    const testSide = `v${this.id}t`;
    await sh('ip', [
      'link',
      'add',
      testSide,
      'type',
      'veth',
      'peer',
      'name',
      `v${this.id}tb`,
      'netns',
      this.ns('ibkr'),
    ]);
    await sh('ip', ['addr', 'add', `${this.underlay.test}/24`, 'dev', testSide]);
    await sh('ip', ['link', 'set', testSide, 'up']);
    await this.exec('ibkr', 'ip', ['link', 'set', `v${this.id}tb`, 'master', bridge, 'up']);

    // Keys and configs exactly as an operator makes them.
    const wgDir = join(this.dir, 'wireguard');
    await sh(join(this.repoRoot, 'infra/wireguard/gen-keys.sh'), [
      wgDir,
      this.underlay.primary,
      this.underlay.standby,
      this.underlay.witness,
    ]);
    for (const host of HOSTS) await this.startWireGuard(host);
  }

  /** wireguard-go with the rendered config (wg-quick's own fields stripped, as wg-quick does). */
  async startWireGuard(host: HostName): Promise<void> {
    const name = this.wgInterface(host);
    const conf = join(this.dir, 'wireguard', host, 'wg-ibstack.conf');
    const stripped = join(this.dir, 'wireguard', host, 'wg-stripped.conf');
    rmSync(`/var/run/wireguard/${name}.sock`, { force: true });
    await this.exec(host, 'wireguard-go', [name]);
    writeFileSync(
      stripped,
      readFileSync(conf, 'utf8')
        .split('\n')
        .filter((line) => !/^\s*Address\s*=/.test(line))
        .join('\n'),
      { mode: 0o600 },
    );
    await this.exec(host, 'wg', ['setconf', name, stripped]);
    await this.exec(host, 'ip', ['addr', 'add', `${WIREGUARD_ADDRESS[host]}/24`, 'dev', name]);
    await this.exec(host, 'ip', ['link', 'set', name, 'up']);
  }

  /** Cuts a host's WireGuard link only (its underlay, and so the gateway, stays reachable). */
  async wireGuardDown(host: HostName): Promise<void> {
    await this.exec(host, 'ip', ['link', 'set', this.wgInterface(host), 'down']);
  }

  async wireGuardUp(host: HostName): Promise<void> {
    await this.exec(host, 'ip', ['link', 'set', this.wgInterface(host), 'up']);
    await this.exec(host, 'ip', [
      'addr',
      'replace',
      `${WIREGUARD_ADDRESS[host]}/24`,
      'dev',
      this.wgInterface(host),
    ]);
  }

  /** Latest handshake of every peer of a host's interface (unix seconds), read with `wg show`. */
  async handshakes(host: HostName): Promise<string> {
    return this.exec(host, 'wg', ['show', this.wgInterface(host), 'latest-handshakes']);
  }

  wgInterfaceOf(host: HostName): string {
    return this.wgInterface(host);
  }

  /** The host dies: its link goes down and every process in it is killed. */
  async cut(host: HostName): Promise<void> {
    await this.exec(host, 'ip', ['link', 'set', 'eth0', 'down']);
    await this.killAll(host);
  }

  /**
   * Partitions `host` from `peers` on the underlay, both ways, while it still reaches the gateway and
   * the test: each side's neighbour entry for the other points at a MAC nobody has, so their frames are
   * dropped. (A blackhole route is not enough: wireguard-go sends with the outgoing interface pinned,
   * and the kernel then treats the destination as on-link whatever the routes say.)
   */
  async partition(host: HostName, peers: readonly HostName[]): Promise<void> {
    for (const peer of peers) {
      await this.exec(host, 'ip', [
        'neigh',
        'replace',
        this.underlay[peer],
        'lladdr',
        '02:00:00:00:de:ad',
        'nud',
        'permanent',
        'dev',
        'eth0',
      ]);
      await this.exec(peer, 'ip', [
        'neigh',
        'replace',
        this.underlay[host],
        'lladdr',
        '02:00:00:00:de:ad',
        'nud',
        'permanent',
        'dev',
        'eth0',
      ]);
    }
  }

  async heal(host: HostName, peers: readonly HostName[]): Promise<void> {
    for (const peer of peers) {
      await this.exec(host, 'ip', ['neigh', 'del', this.underlay[peer], 'dev', 'eth0']).catch(
        () => undefined,
      );
      await this.exec(peer, 'ip', ['neigh', 'del', this.underlay[host], 'dev', 'eth0']).catch(
        () => undefined,
      );
    }
  }

  async restoreLink(host: HostName): Promise<void> {
    await this.exec(host, 'ip', ['link', 'set', 'eth0', 'up']);
  }

  async killAll(name: NamespaceName): Promise<void> {
    const pids = (await sh('ip', ['netns', 'pids', this.ns(name)]).catch(() => ''))
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((pid) => pid > 1);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    // Wait until the kernel has reaped them, so ports and files are free again.
    for (let attempt = 0; attempt < 100; attempt++) {
      const left = (await sh('ip', ['netns', 'pids', this.ns(name)]).catch(() => '')).trim();
      if (!left) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (name !== 'ibkr') rmSync(`/var/run/wireguard/${this.wgInterface(name)}.sock`, { force: true });
  }

  async destroy(): Promise<void> {
    for (const name of [...HOSTS, 'ibkr'] as const) await this.killAll(name).catch(() => undefined);
    for (const ns of this.created.reverse()) await sh('ip', ['netns', 'del', ns]).catch(() => undefined);
    await sh('ip', ['link', 'del', `v${this.id}t`]).catch(() => undefined);
  }

  makeDir(...parts: string[]): string {
    const dir = join(this.dir, ...parts);
    mkdirSync(dir, { recursive: true });
    return dir;
  }
}
