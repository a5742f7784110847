/**
 * The WebSocket protocol at /ws. The client authenticates first, within WS_AUTH_TIMEOUT_MS:
 *   → {"type":"authenticate","payload":{"token":"<jwt>"}}   (the page sends no token: its cookie is used)
 *   ← {"type":"authenticated","payload":{"username","role","expiresAt"}}
 * then subscribes to channels:
 *   → {"type":"subscribe","payload":{"channels":["quotes:EURCAD","bars:EURCAD:1m","orders","trading_state"]}}
 *   ← {"type":"subscribed","payload":{"channels":[…]}}   and then {"type":"event","channel","payload"} frames
 * Errors come as {"type":"error","payload":{"code","message"}}; the server closes with 4401 for a missing or
 * bad authentication, 4408 for an authentication that never came, 4429 for a client too slow to keep up.
 */
import { InstrumentKey, Timeframe } from '@ibstack/contracts';
import { z } from 'zod';

export const FIXED_CHANNELS = [
  'orders',
  'fills',
  'positions',
  'account',
  'trading_state',
  'gateway',
  'reconciliation',
  'errors',
] as const;

export const Channel = z.union([
  z.enum(FIXED_CHANNELS),
  z.templateLiteral(['quotes:', InstrumentKey]),
  z.templateLiteral(['bars:', InstrumentKey, ':', Timeframe]),
]);
export type Channel = z.infer<typeof Channel>;

const ChannelList = z.array(z.string().max(64)).min(1).max(100);

export const ClientMessage = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('authenticate'),
      payload: z.object({ token: z.string().max(4096).optional() }).strict(),
    })
    .strict(),
  z.object({ type: z.literal('subscribe'), payload: z.object({ channels: ChannelList }).strict() }).strict(),
  z
    .object({ type: z.literal('unsubscribe'), payload: z.object({ channels: ChannelList }).strict() })
    .strict(),
  z.object({ type: z.literal('ping'), payload: z.unknown().optional() }).strict(),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

export const CloseCode = {
  unauthenticated: 4401,
  authenticationTimeout: 4408,
  tooSlow: 4429,
  tokenExpired: 4403,
  shuttingDown: 1001,
} as const;
