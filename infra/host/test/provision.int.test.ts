/**
 * The provisioning script run for real against a throwaway Debian 12 root (debootstrap minbase with
 * openssh-server, like a fresh VPS image): packages from Debian's mirror, the user, sshd, sudo, sysctl,
 * journald, unattended upgrades, fail2ban and the firewall's rule files, checked with the tools of that
 * system (sshd -T, fail2ban-client, ufw, apt-config, visudo). Services, the live firewall and Docker's
 * repository are not reachable here: their part is checked through --dry-run. One root serves every case,
 * in order: refusal without a key, dry run, first run, second run, repair of a hand edit.
 */
import { appendFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { runCommand } from '@ibstack/test-kit';

import { createDebianRoot, type DebianRoot, fingerprint } from './debian-root';

const SCRIPT = join(__dirname, '..', 'provision.sh');
const KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2m6JqfjJ1m0Wf7n0r3dZ8q9kq3Qn1m8e0pQ5JrYxYz operator@laptop';

describe('infra/host/provision.sh on a fresh Debian 12 root', () => {
  let root: DebianRoot;
  let keyFile: string;

  const provision = (...args: string[]) =>
    runCommand(SCRIPT, ['--root', root.path, ...args], { timeoutMs: 300_000 });

  beforeAll(async () => {
    root = await createDebianRoot();
    keyFile = join(root.path, 'tmp', 'operator.pub');
    writeFileSync(keyFile, `${KEY}\n`);
    // What cloud-init writes on many VPS images; sshd must still end up refusing passwords and root.
    writeFileSync(
      join(root.path, 'etc/ssh/sshd_config.d/50-cloud-init.conf'),
      'PasswordAuthentication yes\nPermitRootLogin yes\n',
    );
  }, 600_000);

  afterAll(async () => {
    await root?.remove();
  });

  it('refuses to run, changing nothing, when no SSH key would let the operator back in', async () => {
    const before = fingerprint(root.path);
    const result = await provision('--dry-run');
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/no SSH public key for ibstack: pass --ssh-key FILE/);
    expect(fingerprint(root.path)).toBe(before);
  });

  it('names a bad option and exits 78', async () => {
    const result = await provision('--ssh-key', keyFile, '--skip', 'everything');
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/--skip: unknown step 'everything'/);
  });

  it('prints every change with --dry-run, Docker and the services included, and changes nothing', async () => {
    const before = fingerprint(root.path);
    const result = await provision('--dry-run', '--ssh-key', keyFile);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout;
    for (const line of [
      /would change: install packages: sudo ca-certificates curl gpg git jq make ufw fail2ban python3-systemd unattended-upgrades chrony/,
      /would change: create user ibstack/,
      /would change: add ibstack to group docker/,
      /would change: authorize key ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2m… for ibstack/,
      /\+ PermitRootLogin no/,
      /would change: \/etc\/ssh\/sshd_config\.d\/00-ibstack\.conf: create \(644 root:root\)/,
      /would change: \/etc\/sysctl\.d\/60-ibstack\.conf: create/,
      /would change: \/etc\/fail2ban\/jail\.d\/ibstack\.local: create/,
      /would change: ufw allow 22\/tcp/,
      /would change: ufw allow 80\/tcp/,
      /would change: ufw allow 443\/tcp/,
      /would change: ufw allow 51820\/udp/,
      /not run \(--root\): ufw --force enable/,
      /would change: \/etc\/docker\/daemon\.json: create/,
      /"max-size": "10m"/,
      /would change: download Docker's apt key to \/etc\/apt\/keyrings\/docker\.asc/,
      /\+ URIs: https:\/\/download\.docker\.com\/linux\/debian/,
      /would change: install packages: docker-ce docker-ce-cli containerd\.io docker-buildx-plugin docker-compose-plugin/,
      /not run \(--root\): systemctl enable --now docker/,
      /not run \(--root\): systemctl enable --now chrony/,
      /not run \(--root\): systemctl enable --now fail2ban/,
      /not run \(--root\): systemctl reload ssh/,
      /\d+ changes \(dry run: none made\)/,
    ])
      expect(out).toMatch(line);
    expect(out).not.toMatch(/^ {2}change:/m);
    expect(fingerprint(root.path)).toBe(before);
  });

  it('provisions users, sshd, sudo, sysctl, journald, upgrades, fail2ban and the firewall rules', async () => {
    // Docker's repository is not reachable from our machines; its part was shown by the dry run.
    const result = await provision('--ssh-key', keyFile, '--skip', 'docker');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/change: install packages: .*fail2ban/);
    expect(result.stdout).not.toMatch(/docker engine/);

    // sshd, as it will run: our drop-in wins over cloud-init's.
    mkdirSync(join(root.path, 'run/sshd'), { recursive: true });
    const sshd = await root.chroot('sshd', '-T', '-C', 'user=root,host=attacker,addr=203.0.113.7');
    for (const setting of [
      'permitrootlogin no',
      'passwordauthentication no',
      'kbdinteractiveauthentication no',
      'permitemptypasswords no',
      'pubkeyauthentication yes',
      'authenticationmethods publickey',
      'maxauthtries 3',
      'x11forwarding no',
    ])
      expect(sshd.split('\n')).toContain(setting);

    // The deploy user: key login only, in the docker and sudo groups, owns /opt/ibstack.
    expect(await root.chroot('id', '-nG', 'ibstack')).toMatch(/\bdocker\b.*\bsudo\b|\bsudo\b.*\bdocker\b/);
    expect((await root.chroot('passwd', '-S', 'ibstack')).split(' ')[1]).toBe('L');
    expect(
      await root.chroot(
        'stat',
        '-c',
        '%a %U',
        '/home/ibstack/.ssh',
        '/home/ibstack/.ssh/authorized_keys',
        '/opt/ibstack',
      ),
    ).toBe('700 ibstack\n600 ibstack\n750 ibstack\n');
    expect(readFileSync(join(root.path, 'home/ibstack/.ssh/authorized_keys'), 'utf8')).toBe(`${KEY}\n`);
    await root.chroot('visudo', '-c');
    expect(await root.chroot('sudo', '-l', '-U', 'ibstack')).toMatch(/\(ALL\) NOPASSWD: ALL/);

    // fail2ban: the sshd jail reads the journal (Debian 12 has no auth.log) and bans through UFW; its
    // filter recognises the failed logins sshd logs.
    const jails = await root.chroot('fail2ban-client', '-d');
    expect(jails).toMatch(/\['add', 'sshd', 'systemd'\]/);
    expect(jails).toMatch(/\['set', 'sshd', 'maxretry', 5\]/);
    expect(jails).toMatch(/\['set', 'sshd', 'addaction', 'ufw'\]/);
    const regex = await root.chroot(
      'fail2ban-regex',
      'Dec  3 14:00:01 vps sshd[812]: Failed password for invalid user admin from 203.0.113.7 port 52114 ssh2',
      'sshd',
    );
    expect(regex).toMatch(/Failregex: 1 total/);

    // Every kernel setting names a real key, so `sysctl --system` applies all of them.
    const sysctl = readFileSync(join(root.path, 'etc/sysctl.d/60-ibstack.conf'), 'utf8');
    const keys = sysctl
      .split('\n')
      .filter((line) => /^[a-z]/.test(line))
      .map((line) => line.split('=')[0]!.trim());
    expect(keys.length).toBeGreaterThan(15);
    for (const key of keys) expect(() => statSync(join('/proc/sys', key.replaceAll('.', '/')))).not.toThrow();
    expect(keys).not.toContain('net.ipv4.ip_forward'); // Docker needs forwarding

    // The firewall: deny incoming by default; SSH, HTTP, HTTPS and WireGuard open, for IPv4 and IPv6.
    expect(readFileSync(join(root.path, 'etc/default/ufw'), 'utf8')).toMatch(
      /^DEFAULT_INPUT_POLICY="DROP"$/m,
    );
    const rules = readFileSync(join(root.path, 'etc/ufw/user.rules'), 'utf8');
    const rules6 = readFileSync(join(root.path, 'etc/ufw/user6.rules'), 'utf8');
    for (const text of [rules, rules6])
      expect(
        text.match(/^### tuple ### .*$/gm)?.map((line) => line.replace(/ [0-9a-f:./]+\/0 /g, ' ')),
      ).toEqual([
        '### tuple ### allow tcp 22 any in',
        '### tuple ### allow tcp 80 any in',
        '### tuple ### allow tcp 443 any in',
        '### tuple ### allow udp 51820 any in',
      ]);

    // Unattended upgrades on, from the security origins only, without surprise reboots.
    const apt = await root.chroot('apt-config', 'dump');
    expect(apt).toMatch(/^APT::Periodic::Unattended-Upgrade "1";$/m);
    expect(apt).toMatch(/^Unattended-Upgrade::Automatic-Reboot "false";$/m);
    expect(apt.match(/^Unattended-Upgrade::Origins-Pattern:: .*$/gm)).toEqual([
      'Unattended-Upgrade::Origins-Pattern:: "origin=Debian,codename=${distro_codename},label=Debian-Security";',
      'Unattended-Upgrade::Origins-Pattern:: "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";',
    ]);

    expect(await root.chroot('dpkg-query', '-W', '-f=${Status}', 'chrony')).toBe('install ok installed');
    expect(readFileSync(join(root.path, 'etc/systemd/journald.conf.d/60-ibstack.conf'), 'utf8')).toMatch(
      /^SystemMaxUse=1G$/m,
    );
  }, 300_000);

  it('changes nothing on a second run', async () => {
    const before = fingerprint(root.path);
    const result = await provision('--ssh-key', keyFile, '--skip', 'docker');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\n0 changes\n$/);
    expect(result.stdout).not.toMatch(/^ {2}change:/m);
    expect(fingerprint(root.path)).toBe(before);
  }, 120_000);

  it('puts back a setting edited by hand and keeps a key the operator added', async () => {
    const dropIn = join(root.path, 'etc/ssh/sshd_config.d/00-ibstack.conf');
    writeFileSync(dropIn, readFileSync(dropIn, 'utf8').replace('PermitRootLogin no', 'PermitRootLogin yes'));
    const extraKey =
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK7nQmB3vZ2x4c6e8g0i2k4m6o8q0s2u4w6y8A0C2E4G ci@deploy';
    appendFileSync(join(root.path, 'home/ibstack/.ssh/authorized_keys'), `${extraKey}\n`);

    const dryRun = await provision('--dry-run', '--ssh-key', keyFile, '--skip', 'docker');
    expect(dryRun.stdout).toMatch(/-PermitRootLogin yes\n\s+\+PermitRootLogin no/);
    expect(dryRun.stdout).toMatch(/\n1 change \(dry run: none made\)\n$/);

    const result = await provision('--ssh-key', keyFile, '--skip', 'docker');
    expect(result.stdout).toMatch(/change: \/etc\/ssh\/sshd_config\.d\/00-ibstack\.conf: rewrite/);
    expect(result.stdout).toMatch(/\n1 change\n$/);
    expect(await root.chroot('sshd', '-T')).toMatch(/^permitrootlogin no$/m);
    expect(readFileSync(join(root.path, 'home/ibstack/.ssh/authorized_keys'), 'utf8')).toBe(
      `${KEY}\n${extraKey}\n`,
    );
  }, 120_000);
});
