/**
 * dashboard-api: REST + WebSocket over what the stack already has. It reads Postgres, listens on NATS
 * and publishes intents and commands there; it never calls another service's HTTP API.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import type { Bus } from '@ibstack/bus';
import { resolveTradingMode } from '@ibstack/config';
import { deterministicId, randomId } from '@ibstack/contracts';
import type { DatabaseHandle } from '@ibstack/db';
import type { Logger, Registry } from '@ibstack/observability';

import packageJson from '../package.json';
import { LiveFeed } from './adapters/live-feed';
import { ReadStore } from './adapters/pg-read';
import { createApp } from './api/http-app';
import { routes } from './api/routes';
import { Authenticator } from './auth/authenticate';
import { LoginService } from './auth/login';
import { TokenIssuer } from './auth/tokens';
import { UserStore } from './adapters/pg-users';
import { UserCache } from './auth/users';
import type { DashboardConfig } from './config';
import { ControlClient } from './control-client';
import { routeLiveEvents } from './live-router';
import { dashboardMetrics } from './metrics';
import { OperatorActions } from './operator-actions';
import { ensureWebBuilt } from './web-build';
import { WebSocketHub } from './ws/hub';

export const VERSION: string = packageJson.version;
/** The bundled page (npm run build -w @ibstack/dashboard-api); the image carries it beside the code. */
export const DEFAULT_WEB_ROOT = join(__dirname, '..', 'public');

export interface DashboardServiceDeps {
  /** Postgres, connected, schema current (`connectDashboard`); closed by the caller after `stop()`. */
  database: DatabaseHandle;
  /** NATS, connected, streams ensured (`connectDashboard`); closed by the caller after `stop()`. */
  bus: Bus;
  logger: Logger;
  registry: Registry;
  /**
   * Where start() builds the page when WEB_ROOT is unset and it is missing or older than its sources.
   * @default DEFAULT_WEB_ROOT (tests give an empty folder to start as a fresh checkout does)
   */
  pageBuildDir?: string;
}

export interface DashboardService {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** `http://127.0.0.1:<port>` once started. */
  readonly url: string;
  readonly port: number;
}

export function createDashboardService(
  config: DashboardConfig,
  deps: DashboardServiceDeps,
): DashboardService {
  const log = deps.logger;
  const registry = deps.registry;
  const metrics = dashboardMetrics(registry);
  const mode = resolveTradingMode(config);
  const { database, bus } = deps;
  const startedAt = Date.now();
  const webRoot = config.WEB_ROOT ?? deps.pageBuildDir ?? DEFAULT_WEB_ROOT;
  const db = database.db;

  // Collaborators, built here; start() only builds the page when needed, subscribes and listens.
  const read = new ReadStore(db);
  const users = new UserStore(db);
  const userCache = new UserCache(users);
  const tokens = new TokenIssuer(config.JWT_SECRET, config.JWT_TTL_SECONDS);
  const auth = new Authenticator(tokens, userCache);
  const actions = new OperatorActions({
    bus,
    db,
    read,
    sleeve: config.OPERATOR_SLEEVE,
    orderWaitMs: config.ORDER_WAIT_MS,
  });
  const login = new LoginService({
    users,
    cache: userCache,
    tokens,
    metrics,
    cookieSecure: config.COOKIE_SECURE,
    audit: (actor, action, detail) =>
      actions.audit(
        actor,
        action,
        action === 'login' ? deterministicId('login', actor, Date.now()) : randomId(),
        detail,
      ),
  });
  const readiness = async () => ({ nats: bus.isConnected(), postgres: await database.ping() });

  // The hub's snapshots read the live feed, which routes into the hub: the feed is made right after
  // (a snapshot is asked for only once a socket is connected, after start()).
  const hub = new WebSocketHub({
    auth,
    logger: log,
    metrics,
    authTimeoutMs: config.WS_AUTH_TIMEOUT_MS,
    heartbeatMs: config.WS_HEARTBEAT_INTERVAL,
    maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
    maxPayloadBytes: config.WS_MAX_PAYLOAD_BYTES,
    allowedOrigins: config.CORS_ORIGINS,
    snapshot: async (channel) => {
      if (channel === 'trading_state') return live.tradingState ?? undefined;
      if (channel === 'gateway')
        return {
          health: live.gatewayHealth ?? null,
          services: [...live.gatewayStatuses.values()],
        };
      if (channel === 'positions') return router.positions();
      if (channel === 'account') return (await read.accounts())[0];
      return undefined;
    },
  });
  const router = routeLiveEvents(hub, read, (error) =>
    log.warn({ err: error }, 'could not refresh positions'),
  );
  const live = new LiveFeed(bus, log, router.route);

  const app = createApp({
    routes: routes({
      read,
      live,
      login,
      actions,
      control: new ControlClient(bus, config.CONTROL_REPLY_TIMEOUT_MS, (actor, action, auditId, detail) =>
        actions.audit(actor, action, auditId, detail),
      ),
      tradingMode: mode.ok ? mode.mode : 'paper',
      ibkrTest: { host: config.IB_HOST, port: config.IB_PORT, clientId: config.IB_TEST_CLIENT_ID },
      health: readiness,
      version: VERSION,
      startedAt,
    }),
    auth,
    logger: log,
    registry,
    metrics,
    readiness,
    corsOrigins: config.CORS_ORIGINS,
    trustProxy: config.TRUST_PROXY,
    ratePerMinute: config.RATE_LIMIT_PER_MINUTE,
    userRatePerMinute: config.USER_RATE_LIMIT_PER_MINUTE,
    loginLimit: config.LOGIN_RATE_LIMIT,
    bodyLimit: config.BODY_LIMIT,
    webRoot,
    version: VERSION,
  });
  const server: Server = createServer(app);
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  server.on('upgrade', (request, socket, head) => hub.handleUpgrade(request, socket, head));
  let listening = false;
  let port = 0;

  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },

    async start() {
      if (!config.WEB_ROOT) await ensureWebBuilt(webRoot);
      await live.start();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.HTTP_PORT, config.HTTP_HOST, () => resolve());
      });
      listening = true;
      port = (server.address() as AddressInfo).port;
      hub.start();
      log.info(
        { url: `http://127.0.0.1:${port}`, mode: mode.ok ? mode.mode : 'paper' },
        'dashboard-api started',
      );
    },

    async stop() {
      await hub.stop();
      router.stop();
      live.stop();
      if (listening) {
        const closing = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closing;
        listening = false;
      }
      log.info('dashboard-api stopped');
    },
  };
}
