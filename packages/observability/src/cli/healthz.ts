/**
 * The images' HEALTHCHECK: `node packages/observability/src/cli/healthz.js` asks the service in the same
 * container for `/healthz` on `HTTP_PORT` and exits 0 on a 200, 1 otherwise (liveness only: a service that
 * is alive but not ready must not be restarted for it). Plain node, no shell, no curl in the image.
 */
import { get } from 'node:http';

const port = Number(process.env.HTTP_PORT);
const timeoutMs = 4_000;

if (!Number.isInteger(port) || port <= 0 || port > 65_535) {
  process.stderr.write(`healthz: HTTP_PORT must be a port number, got "${process.env.HTTP_PORT ?? ''}"\n`);
  process.exit(1);
}

const request = get({ host: '127.0.0.1', port, path: '/healthz', timeout: timeoutMs }, (response) => {
  response.resume();
  const ok = response.statusCode === 200;
  if (!ok) process.stderr.write(`healthz: HTTP ${response.statusCode ?? '?'} from port ${port}\n`);
  process.exit(ok ? 0 : 1);
});
request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
request.on('error', (error) => {
  process.stderr.write(`healthz: port ${port}: ${error.message}\n`);
  process.exit(1);
});
