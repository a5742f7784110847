/**
 * The floor for the WebSocket fan-out in `npm run bench -- dashboard-api`: a bare `ws` server that takes
 * the same tick messages from NATS (a core subscription on the same subject, as dashboard-api's live feed
 * has) and writes each, in the same event envelope, to every connected client. No authentication, no
 * validation, no channels, no slow-client accounting.
 *
 *   NATS_URL=… SUBJECT=… HTTP_PORT=… node --import tsx bench/baselines/bare-ws-broadcast.ts
 */
import { connect } from '@nats-io/transport-node';
import { WebSocketServer } from 'ws';

async function main(): Promise<void> {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: Number(process.env.HTTP_PORT),
    perMessageDeflate: false,
  });
  const nc = await connect({ servers: process.env.NATS_URL!, name: 'bare-ws-broadcast' });
  const decoder = new TextDecoder();
  nc.subscribe(process.env.SUBJECT!, {
    callback: (error, message) => {
      if (error) return;
      const payload = JSON.parse(decoder.decode(message.data)) as { instrument: string };
      const frame = JSON.stringify({ type: 'event', channel: `quotes:${payload.instrument}`, payload });
      for (const client of server.clients) client.send(frame);
    },
  });
  process.on('SIGTERM', () => {
    server.close();
    void nc.close().then(() => process.exit(0));
  });
}

void main();
