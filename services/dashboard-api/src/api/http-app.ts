/**
 * The express app: security headers (helmet, with a CSP that allows only our own scripts), CORS for the
 * configured origins, a per-address limit in front of everything and a per-user limit behind the token
 * check, a stricter limit on logins (per address and per user name), small JSON bodies, the routes, the
 * page, and one error mapper.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type { Logger, Registry } from '@ibstack/observability';
import cors from 'cors';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import helmet from 'helmet';

import type { Authenticator } from '../auth/authenticate';
import { tokenOf } from '../auth/login';
import { roleAllows } from '../auth/roles';
import type { TokenClaims } from '../auth/tokens';
import type { DashboardMetrics } from '../metrics';
import { ApiError, ErrorCode, errorBody, errorMiddleware, validationError } from './errors';
import { openApiDocument } from './openapi';
import type { RouteSpec } from './route';

export interface AppOptions {
  routes: readonly RouteSpec[];
  auth: Authenticator;
  logger: Logger;
  registry: Registry;
  metrics: DashboardMetrics;
  readiness: () => Promise<Record<string, boolean>>;
  corsOrigins: readonly string[];
  /** Express's `trust proxy`: the peers whose X-Forwarded-For is believed (TRUST_PROXY). */
  trustProxy: string;
  ratePerMinute: number;
  userRatePerMinute: number;
  loginLimit: number;
  bodyLimit: string;
  webRoot: string | null;
  version: string;
}

type AuthedRequest = Request & { user?: TokenClaims };

function limited(
  windowMs: number,
  limit: number,
  keyGenerator: (req: Request) => string,
  options: { onlyFailures?: boolean } = {},
): RequestHandler {
  return rateLimit({
    windowMs,
    limit,
    skipSuccessfulRequests: options.onlyFailures ?? false,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator,
    handler: (_req, res) => {
      res.status(429).json(errorBody(ErrorCode.rateLimited, 'too many requests; slow down'));
    },
  });
}

const addressKey = (req: Request) => ipKeyGenerator(req.ip ?? 'unknown');

export function createApp(options: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', options.trustProxy);
  app.set('query parser', 'simple');

  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          frameAncestors: ["'none'"],
          formAction: ["'self'"],
          upgradeInsecureRequests: null,
        },
      },
      strictTransportSecurity: false, // set by the TLS reverse proxy, which knows whether it serves HTTPS
    }),
  );

  const { metrics } = options;
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      metrics.requests.inc({ route, status: `${Math.floor(res.statusCode / 100)}xx` });
      metrics.requestSeconds.observe({ route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  });

  // Probes and metrics: no token, no rate limit (Prometheus and the orchestrator poll them).
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', (_req, res, next) => {
    options
      .readiness()
      .then((checks) => {
        const ready = Object.values(checks).every(Boolean);
        res.status(ready ? 200 : 503).json({ ready, checks });
      })
      .catch(next);
  });
  app.get('/metrics', (_req, res, next) => {
    options.registry
      .metrics()
      .then((text) => res.type(options.registry.contentType).send(text))
      .catch(next);
  });

  app.use('/api', cors({ origin: [...options.corsOrigins], credentials: true, maxAge: 600 }));
  app.use(limited(60_000, options.ratePerMinute, addressKey));
  app.use('/api', express.json({ limit: options.bodyLimit, strict: true, type: () => true }));

  app.get(
    '/api/openapi.json',
    (_req, res) => void res.json(openApiDocument(options.routes, { version: options.version })),
  );

  // Failed logins count: LOGIN_RATE_LIMIT per user name (guessing one password), five times that per
  // address (trying many names from one place) in 15 minutes.
  const loginPerAddress = limited(15 * 60_000, options.loginLimit * 5, addressKey, { onlyFailures: true });
  const loginPerUser = limited(
    15 * 60_000,
    options.loginLimit,
    (req) => {
      const name = (req.body as { username?: unknown } | undefined)?.username;
      return `user:${typeof name === 'string' ? name.slice(0, 64) : ''}`;
    },
    { onlyFailures: true },
  );
  const perUser = limited(
    60_000,
    options.userRatePerMinute,
    (req) => `user:${(req as AuthedRequest).user?.username ?? ''}`,
  );

  const authenticate =
    (spec: RouteSpec): RequestHandler =>
    (req, _res, next) => {
      if (spec.access === 'public') return next();
      options.auth
        .authenticate(tokenOf(req.headers))
        .then((user) => {
          if (!roleAllows(user.role, spec.access as 'viewer' | 'operator'))
            throw new ApiError(
              403,
              ErrorCode.forbidden,
              `${spec.method.toUpperCase()} ${spec.path} needs the ${spec.access} role`,
            );
          (req as AuthedRequest).user = user;
          next();
        })
        .catch(next);
    };

  for (const spec of options.routes) {
    const chain: RequestHandler[] = [];
    if (spec.path === '/api/auth/login') chain.push(loginPerAddress, loginPerUser);
    chain.push(authenticate(spec));
    if (spec.access !== 'public') chain.push(perUser);
    chain.push((req: Request, res: Response, next: NextFunction) => {
      const parse = <T>(schema: RouteSpec['body'], value: unknown, prefix?: string): T => {
        if (!schema) return value as T;
        const parsed = schema.safeParse(value);
        if (!parsed.success) throw validationError(parsed.error, prefix);
        return parsed.data as T;
      };
      (async () => {
        if (spec.body && (req.body === undefined || req.body === null || typeof req.body !== 'object'))
          throw new ApiError(400, ErrorCode.invalidRequest, 'the body must be a JSON object');
        const input = {
          params: parse(spec.params, req.params),
          query: parse(spec.query, req.query),
          headers: parse(spec.headers, req.headers),
          body: parse(spec.body, req.body),
          user: (req as AuthedRequest).user!,
          req,
          res,
        };
        const result = await spec.handler(input);
        res.status(result.status ?? spec.status ?? 200).json(result.body);
      })().catch(next);
    });
    app[spec.method](spec.path, ...chain);
  }

  app.use('/api', (req, _res, next) =>
    next(new ApiError(404, ErrorCode.notFound, `no route ${req.method} ${req.path}`)),
  );

  if (options.webRoot) {
    // Served whether or not the page exists yet: the service builds it in start(), after this app is made,
    // so on a fresh checkout's first run it appears only then (checking here left `/` a 404 until a restart).
    const index = join(options.webRoot, 'index.html');
    app.use(express.static(options.webRoot, { index: 'index.html', maxAge: '1h', fallthrough: true }));
    app.get('/', (_req, res, next) => {
      if (existsSync(index)) res.sendFile(index);
      else
        next(
          new ApiError(
            404,
            ErrorCode.notFound,
            'the page is not built: npm run build -w @ibstack/dashboard-api',
          ),
        );
    });
  }
  app.use((req, _res, next) =>
    next(new ApiError(404, ErrorCode.notFound, `no route ${req.method} ${req.path}`)),
  );
  app.use(
    errorMiddleware((error, requestId) => options.logger.error({ err: error, requestId }, 'request failed')),
  );
  return app;
}
