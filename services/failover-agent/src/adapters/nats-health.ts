/**
 * The local NATS node's own health endpoint: in a cluster, `/healthz` answers 200 only when JetStream is
 * enabled and this node is current with the meta leader and with every stream and consumer it holds.
 */
export async function natsNodeCurrent(monitorUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${monitorUrl}/healthz`, { signal: AbortSignal.timeout(3_000) });
    return response.ok;
  } catch {
    return false;
  }
}
