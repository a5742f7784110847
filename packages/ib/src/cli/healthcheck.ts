/**
 * `npm run healthcheck -- --host 127.0.0.1 --port 4002 --timeout 5000`: exit 0 when the gateway answers a
 * real API handshake and reqCurrentTime within the timeout, 1 otherwise, with a one-line reason. Host and
 * port default to IB_HOST/IB_PORT.
 */
import { parseArgs } from 'node:util';

import { gatewayEnv, loadConfigOrExit, port } from '@ibstack/config';

import { runHealthcheck } from '../healthcheck';

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      timeout: { type: 'string', default: '5000' },
      'client-id': { type: 'string' },
    },
    strict: true,
  });
  const environment = loadConfigOrExit('healthcheck', gatewayEnv.pick({ IB_HOST: true, IB_PORT: true }));
  const targetPort = port.parse(values.port ?? environment.IB_PORT);
  const host = values.host ?? environment.IB_HOST;
  const timeoutMs = Number(values.timeout);
  if (!(timeoutMs > 0))
    throw new Error(`--timeout must be a positive number of milliseconds, got "${values.timeout}"`);
  const clientId = values['client-id'] === undefined ? undefined : Number(values['client-id']);
  const result = await runHealthcheck({ host, port: targetPort, timeoutMs, clientId });
  const line = `${result.ok ? 'healthy' : 'unhealthy'}: ${host}:${targetPort} ${result.reason} in ${result.elapsedMs} ms`;
  (result.ok ? process.stdout : process.stderr).write(`${line}\n`);
  process.exit(result.ok ? 0 : 1);
}

main().catch((error: unknown) => {
  process.stderr.write(`unhealthy: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
