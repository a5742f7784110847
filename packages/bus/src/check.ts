import { connect } from '@nats-io/transport-node';
import { redactUrlCredentials } from '@ibstack/observability';

/** Whether NATS answers at `url` with JetStream enabled. Returns the problem, or null. */
export async function checkNats(url: string, timeoutMs = 2_000): Promise<string | null> {
  const shown = redactUrlCredentials(url);
  try {
    const nc = await connect({
      servers: url.split(',').map((server) => server.trim()),
      timeout: timeoutMs,
      maxReconnectAttempts: 0,
    });
    const jetstream = Boolean(nc.info?.jetstream);
    await nc.close();
    return jetstream
      ? null
      : `NATS at ${shown} has JetStream disabled. Start nats-server with -js, or set NATS_URL.`;
  } catch (error) {
    return (
      `NATS is not reachable at ${shown} (${(error as Error).message}). ` +
      'Start it (docker compose up -d nats, or apt install nats-server && nats-server -js) or set NATS_URL.'
    );
  }
}
