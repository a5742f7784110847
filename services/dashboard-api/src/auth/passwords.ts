/**
 * Password hashes: argon2id (RFC 9106) through the `argon2` package, native code that hashes on libuv's
 * thread pool (a WebAssembly argon2 took over a second per login here, blocking the event loop). Its npm
 * tarball carries prebuilt binaries, so installing it downloads nothing from outside the registry; where a
 * prebuilt binary does not load (it segfaults on some hosts), its install step compiles it with node-gyp
 * (the Dockerfile's build stage has the compiler for that). Parameters are the package defaults (64 MiB,
 * 3 passes, 4 lanes), stored in the PHC string, so raising them later still verifies old hashes.
 */
import argon2 from 'argon2';

export const MIN_PASSWORD_LENGTH = 10;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

/** False for a wrong password and for a hash that is not an argon2 hash at all. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/**
 * A hash of a password nobody has, verified when the user name is unknown, so a login takes as long
 * for an unknown name as for a wrong password and does not reveal which names exist.
 */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(`decoy-${Math.random()}`);
  return decoy;
}
