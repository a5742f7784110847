/**
 * A throwaway Debian 12 root for testing the provisioning script for real: `debootstrap --variant=minbase`
 * plus openssh-server (what every VPS image has). The first build downloads from Debian's mirror (about
 * 35 s on our machines); the result is kept as a tarball under the system temp directory, so later runs on
 * the same machine unpack it in a few seconds.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runCommandOk } from '@ibstack/test-kit';

const SUITE = 'bookworm';
const MIRROR = 'http://deb.debian.org/debian';
const INCLUDE = ['openssh-server'];

export interface DebianRoot {
  readonly path: string;
  /** Runs a command inside the root (chroot). */
  chroot(command: string, ...args: string[]): Promise<string>;
  remove(): Promise<void>;
}

export async function createDebianRoot(): Promise<DebianRoot> {
  if (process.getuid?.() !== 0) throw new Error('the provisioning test needs root (chroot, useradd --root)');
  const cacheDir = join(tmpdir(), 'ibstack-debootstrap');
  const tarball = join(cacheDir, `${SUITE}-minbase-${INCLUDE.join('+')}.tar`);
  const path = mkdtempSync(join(tmpdir(), 'ibstack-root-'));
  if (existsSync(tarball)) {
    await runCommandOk('tar', ['-xpf', tarball, '--numeric-owner', '-C', path]);
  } else {
    await runCommandOk(
      'debootstrap',
      ['--variant=minbase', `--include=${INCLUDE.join(',')}`, SUITE, path, MIRROR],
      { timeoutMs: 600_000 },
    );
    mkdirSync(cacheDir, { recursive: true });
    const partial = `${tarball}.${process.pid}`;
    await runCommandOk('tar', ['-cpf', partial, '--numeric-owner', '-C', path, '.']);
    renameSync(partial, tarball);
  }
  return {
    path,
    chroot: async (command, ...args) => (await runCommandOk('chroot', [path, command, ...args])).stdout,
    remove: () => {
      // Nothing is ever mounted in the root (provisioning mounts /proc only in a private namespace), so a
      // recursive delete cannot reach outside it; refuse if that ever stops being true.
      if (readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${path}/`))
        throw new Error(`${path} has something mounted in it; not deleting`);
      rmSync(path, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

/**
 * A fingerprint of everything provisioning may touch in a root: every path under these directories with
 * its type, mode, owner and content (or link target). Equal fingerprints mean nothing there changed.
 */
export function fingerprint(
  root: string,
  directories = ['etc', 'home', 'opt', 'root', 'var/lib/dpkg'],
): string {
  const hash = createHash('sha256');
  const visit = (relative: string) => {
    const full = join(root, relative);
    const stat = lstatSync(full);
    hash.update(`${relative}\0${stat.mode}\0${stat.uid}\0${stat.gid}\0`);
    if (stat.isSymbolicLink()) hash.update(readlinkSync(full));
    else if (stat.isFile()) hash.update(readFileSync(full));
    else if (stat.isDirectory()) for (const name of readdirSync(full).sort()) visit(join(relative, name));
  };
  for (const directory of directories) if (existsSync(join(root, directory))) visit(directory);
  return hash.digest('hex');
}
