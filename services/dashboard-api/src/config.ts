import { booleanFlag, commonEnv, gatewayEnv, milliseconds, port, tradingModeEnv } from '@ibstack/config';
import { isIP } from 'node:net';

import { z } from 'zod';

const count = (fallback: number, minimum = 1) =>
  z.coerce.number({ error: 'must be an integer' }).int().min(minimum).default(fallback);

const originList = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const origins = value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean);
    for (const origin of origins) {
      try {
        const url = new URL(origin);
        if (url.origin !== origin) throw new Error('not an origin');
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: `"${origin}" is not an origin like https://dash.example.com`,
        });
      }
    }
    return origins;
  });

/** Express's `trust proxy` list: `loopback`, `linklocal`, `uniquelocal`, addresses or CIDR ranges. */
const trustedProxies = z
  .string()
  .default('loopback')
  .transform((value, ctx) => {
    const entries = value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean);
    for (const entry of entries) {
      const [address = '', bits, extra] = entry.split('/');
      const named = ['loopback', 'linklocal', 'uniquelocal'].includes(entry);
      const family = isIP(address);
      const prefixOk =
        bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
      if (!named && (family === 0 || !prefixOk || extra !== undefined))
        ctx.addIssue({
          code: 'custom',
          message: `"${entry}" is not loopback, linklocal, uniquelocal, an IP address or a CIDR range`,
        });
    }
    return entries.join(',');
  });

/** dashboard-api's environment. Every default works on a developer machine; the JWT secret has none. */
export const dashboardEnv = commonEnv.extend(tradingModeEnv.shape).extend({
  /** REST, WebSocket, the page, /healthz /readyz /metrics: one port. @default 8080 */
  HTTP_PORT: port.default(8080),
  /** @default 0.0.0.0 */
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  /** HS256 key for the access tokens (read it from a file with JWT_SECRET_FILE). At least 32 characters. */
  JWT_SECRET: z
    .string({ error: 'is required (or JWT_SECRET_FILE naming a file that holds it)' })
    .min(32, 'must be at least 32 characters (openssl rand -base64 48)'),
  /** Lifetime of an access token. @default 900 (15 minutes) */
  JWT_TTL_SECONDS: count(900, 30),
  /** Origins allowed to call the API from a browser (comma-separated); the page itself needs none. */
  CORS_ORIGINS: originList,
  /** Send the session cookie only over HTTPS (turn off only for plain-HTTP development). @default true */
  COOKIE_SECURE: booleanFlag.default(true),
  /**
   * Peers whose X-Forwarded-For names the client: the reverse proxy. Requests from anyone else count as
   * their own address, whatever header they send. `loopback` fits a proxy on the same host; in compose the
   * proxy is another container on the private compose network (`loopback,uniquelocal`). Without the proxy
   * trusted, every client would count as the proxy's address and share one rate limit. @default loopback
   */
  TRUST_PROXY: trustedProxies,
  /** Requests per minute per client address. @default 600 */
  RATE_LIMIT_PER_MINUTE: count(600),
  /** Requests per minute per logged-in user. @default 300 */
  USER_RATE_LIMIT_PER_MINUTE: count(300),
  /** Login attempts per 15 minutes per address and per user name. @default 10 */
  LOGIN_RATE_LIMIT: count(10),
  /** Largest request body. @default 16kb */
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/, 'must be a size like 16kb')
    .default('16kb'),
  /** A WebSocket client must authenticate within this long. @default 5000 */
  WS_AUTH_TIMEOUT_MS: milliseconds(5_000, 100),
  /** Ping interval; a client that missed the previous pong is dropped. @default 30000 */
  WS_HEARTBEAT_INTERVAL: milliseconds(30_000, 100),
  /** Bytes queued for one client before it counts as too slow and is dropped. @default 1048576 */
  WS_MAX_BUFFERED_BYTES: count(1_048_576, 1_024),
  /** Largest frame a client may send. @default 4096 */
  WS_MAX_PAYLOAD_BYTES: count(4_096, 256),
  /** The sleeve manual orders are placed under. @default operator */
  OPERATOR_SLEEVE: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('operator'),
  /** How long POST /api/orders waits for execution to record the order before answering 202. @default 5000 */
  ORDER_WAIT_MS: milliseconds(5_000, 0),
  /** How long to wait for a service's answer to a control command (subscribe, connect). @default 10000 */
  CONTROL_REPLY_TIMEOUT_MS: milliseconds(10_000, 100),
  /** Gateway for POST /api/ibkr/test (a handshake with its own client id). */
  IB_HOST: gatewayEnv.shape.IB_HOST,
  IB_PORT: gatewayEnv.shape.IB_PORT,
  /**
   * Its own client id: the gateway allows each once, and the gateway supervisor holds 90 (session) and 91
   * (probe). @default 92
   */
  IB_TEST_CLIENT_ID: count(92, 0),
  /** Where the built page is (npm run build -w @ibstack/dashboard-api). @default public/ beside src */
  WEB_ROOT: z.string().optional(),
});
export type DashboardConfig = z.infer<typeof dashboardEnv>;
