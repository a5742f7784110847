import { runCommand } from './commands';

export interface WireGuardPeer {
  /** The peer's first allowed address without the prefix length (10.77.0.2): names it in metrics. */
  address: string;
  /** Unix seconds of the latest handshake; 0 when there has been none. */
  latestHandshake: number;
}

/**
 * Reads `wg show <interface> dump`: a line for the interface, then one per peer, tab-separated:
 * public key, preshared key, endpoint, allowed ips, latest handshake, rx, tx, keepalive.
 */
export function parseWgDump(text: string): WireGuardPeer[] {
  return text
    .split('\n')
    .slice(1)
    .map((line) => line.split('\t'))
    .filter((fields) => fields.length >= 8)
    .map((fields) => ({
      address: (fields[3]!.split(',')[0] ?? '').split('/')[0]!,
      latestHandshake: Number(fields[4]) || 0,
    }));
}

export async function readWireGuard(interfaceName: string): Promise<WireGuardPeer[]> {
  const result = await runCommand(['wg', 'show', interfaceName, 'dump'], {}, 5_000);
  if (result.code !== 0) throw new Error(`wg show ${interfaceName} dump failed: ${result.output}`);
  return parseWgDump(result.output);
}
