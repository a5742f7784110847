/**
 * The fault-injection admin API and `/status`, served next to /healthz, /readyz and /metrics. Every admin
 * route is a POST taking a JSON body (or the same fields as query parameters):
 *
 *   POST /admin/drop-connections
 *   POST /admin/refuse-connections      { "ms": 5000 }
 *   POST /admin/stall                   { "on": true }
 *   POST /admin/daily-reset             { "downMs": 1000 }
 *   POST /admin/reject-next-order       { "reason": "…", "code": 201 }
 *   POST /admin/delay-fills             { "ms": 2000 }
 *   POST /admin/withhold-fills          { "on": true }
 *   POST /admin/delay-commissions       { "ms": 3000 }
 *   POST /admin/drift-position          { "instrument": "EUR.CAD", "quantity": 10000 }
 *   POST /admin/fill-while-disconnected { "maxAdvanceMs": 3600000 }
 *   POST /admin/advance-clock           { "ms": 3600000 }
 *   POST /admin/login                   { "state": "logged_out"|"two_factor_pending"|"logged_in", "reason": "…" }
 *   POST /admin/broker-link             { "up": false, "code": 1100|2110 } / { "up": true, "dataLost": false }
 *   POST /admin/competing-session       { "on": true }
 *   POST /admin/hold-client-id          { "clientId": 90, "on": true }
 *   GET  /admin/quote?instrument=EURCAD
 *
 * Errors share one shape: `{ "error": { "code", "message", "field" } }`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { UnknownInstrumentError } from '../errors';
import type { GatewaySim } from '../gateway-sim';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

class AdminRequestError extends Error {
  override readonly name = 'AdminRequestError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readParameters(req: IncomingMessage): Promise<Record<string, unknown>> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const parameters: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 65_536) throw new AdminRequestError(413, 'too_large', 'request body over 64 KiB');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return parameters;
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
    return { ...parameters, ...(body as Record<string, unknown>) };
  } catch {
    throw new AdminRequestError(400, 'invalid_json', 'the body must be a JSON object');
  }
}

function numberField(parameters: Record<string, unknown>, field: string, fallback?: number): number {
  const raw = parameters[field];
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback;
    throw new AdminRequestError(400, 'missing_field', `"${field}" is required`, field);
  }
  const value = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isFinite(value))
    throw new AdminRequestError(400, 'invalid_field', `"${field}" must be a number`, field);
  return value;
}

/** Longest delay a Node timer takes (2^31 − 1 ms); longer ones would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

function durationField(parameters: Record<string, unknown>, field: string, fallback?: number): number {
  const value = numberField(parameters, field, fallback);
  if (value < 0 || value > MAX_TIMER_MS)
    throw new AdminRequestError(
      400,
      'invalid_field',
      `"${field}" must be between 0 and ${MAX_TIMER_MS} ms`,
      field,
    );
  return value;
}

function booleanField(parameters: Record<string, unknown>, field: string, fallback: boolean): boolean {
  const raw = parameters[field];
  if (raw === undefined || raw === '') return fallback;
  if (typeof raw === 'boolean') return raw;
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    throw new AdminRequestError(400, 'invalid_field', `"${field}" must be true or false`, field);
  }
  const text = String(raw).toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(text)) return true;
  if (['false', '0', 'no', 'off'].includes(text)) return false;
  throw new AdminRequestError(400, 'invalid_field', `"${field}" must be true or false`, field);
}

function stringField(parameters: Record<string, unknown>, field: string, fallback?: string): string {
  const raw = parameters[field];
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback;
    throw new AdminRequestError(400, 'missing_field', `"${field}" is required`, field);
  }
  if (typeof raw !== 'string')
    throw new AdminRequestError(400, 'invalid_field', `"${field}" must be a string`, field);
  return raw;
}

/** One wrapper for method checks and the error shape. */
function route(method: 'GET' | 'POST', action: (parameters: Record<string, unknown>) => unknown): Handler {
  return async (req, res) => {
    try {
      if (req.method !== method) throw new AdminRequestError(405, 'method_not_allowed', `use ${method}`);
      const result = await action(await readParameters(req));
      send(res, 200, result ?? { ok: true });
    } catch (error) {
      if (error instanceof AdminRequestError) {
        send(res, error.status, { error: { code: error.code, message: error.message, field: error.field } });
      } else if (error instanceof UnknownInstrumentError) {
        send(res, 404, {
          error: { code: 'unknown_instrument', message: error.message, field: 'instrument' },
        });
      } else {
        send(res, 500, { error: { code: 'internal', message: String(error) } });
      }
    }
  };
}

export function adminRoutes(options: { sim: GatewaySim; status: () => unknown }): Record<string, Handler> {
  const { sim } = options;
  return {
    '/status': route('GET', () => options.status()),
    // Read-only views of the simulated account, for end-to-end checks against a sim in another process.
    '/admin/orders': route('GET', () => sim.account.orders()),
    '/admin/executions': route('GET', () => sim.account.executions()),
    '/admin/positions': route('GET', () => sim.account.positions()),
    '/admin/timeline': route('GET', () => sim.timeline()),
    '/admin/drop-connections': route('POST', () => sim.faults.dropAllConnections()),
    '/admin/refuse-connections': route('POST', (p) => sim.faults.refuseConnections(durationField(p, 'ms'))),
    '/admin/accept-connections': route('POST', () => sim.faults.acceptConnections()),
    '/admin/stall': route('POST', (p) => sim.faults.stall(booleanField(p, 'on', true))),
    '/admin/daily-reset': route('POST', (p) =>
      sim.faults.dailyReset({ downMs: durationField(p, 'downMs', 1000) }),
    ),
    '/admin/reject-next-order': route('POST', (p) =>
      sim.faults.rejectNextOrder(
        stringField(p, 'reason'),
        p.code === undefined ? undefined : numberField(p, 'code'),
      ),
    ),
    '/admin/delay-fills': route('POST', (p) => sim.faults.delayFills(durationField(p, 'ms'))),
    '/admin/withhold-fills': route('POST', (p) => sim.faults.withholdFills(booleanField(p, 'on', true))),
    '/admin/delay-commissions': route('POST', (p) => sim.faults.delayCommissions(durationField(p, 'ms'))),
    '/admin/drift-position': route('POST', (p) =>
      sim.faults.driftPosition(stringField(p, 'instrument'), numberField(p, 'quantity')),
    ),
    '/admin/fill-while-disconnected': route('POST', (p) =>
      sim.faults.fillWhileDisconnected({ maxAdvanceMs: durationField(p, 'maxAdvanceMs', 3_600_000) }),
    ),
    '/admin/advance-clock': route('POST', (p) => {
      const ms = numberField(p, 'ms');
      if (ms < 0) throw new AdminRequestError(400, 'invalid_field', '"ms" must not be negative', 'ms');
      sim.faults.advanceClock(ms);
    }),
    '/admin/login': route('POST', (p) => {
      const state = stringField(p, 'state');
      if (state !== 'logged_in' && state !== 'logged_out' && state !== 'two_factor_pending')
        throw new AdminRequestError(
          400,
          'invalid_field',
          '"state" must be logged_in, logged_out or two_factor_pending',
          'state',
        );
      const reason = p.reason === undefined ? undefined : stringField(p, 'reason');
      sim.faults.setLogin(state, reason);
    }),
    '/admin/broker-link': route('POST', (p) => {
      const up = booleanField(p, 'up', true);
      const code = p.code === undefined ? 1100 : numberField(p, 'code');
      if (code !== 1100 && code !== 2110)
        throw new AdminRequestError(400, 'invalid_field', '"code" must be 1100 or 2110', 'code');
      sim.faults.brokerLink({ up, code, dataLost: booleanField(p, 'dataLost', false) });
    }),
    '/admin/competing-session': route('POST', (p) =>
      sim.faults.competingSession(booleanField(p, 'on', true)),
    ),
    '/admin/hold-client-id': route('POST', (p) => {
      const clientId = numberField(p, 'clientId');
      if (!Number.isInteger(clientId) || clientId < 0)
        throw new AdminRequestError(
          400,
          'invalid_field',
          '"clientId" must be a non-negative integer',
          'clientId',
        );
      sim.faults.holdClientId(clientId, booleanField(p, 'on', true));
    }),
    '/admin/quote': route('GET', (p) => {
      const instrument = stringField(p, 'instrument');
      const quote = sim.quote(instrument);
      if (!quote) throw new UnknownInstrumentError(instrument);
      return quote;
    }),
  };
}
