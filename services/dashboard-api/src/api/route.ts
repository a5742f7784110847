/**
 * A route is declared once with its zod schemas; the same declaration validates requests in express and
 * becomes its entry in the OpenAPI document, so the document cannot drift from what the server accepts.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';

import type { Role } from '../auth/roles';
import type { TokenClaims } from '../auth/tokens';

export type Method = 'get' | 'post' | 'patch' | 'delete';

export interface RouteInput<P, Q, B, H> {
  params: P;
  query: Q;
  body: B;
  headers: H;
  user: TokenClaims;
  req: Request;
  res: Response;
}

export interface RouteResult<R> {
  status?: number;
  body: R;
}

export interface RouteSpec<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  H extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
> {
  method: Method;
  /** Express path (`/api/orders/:id`); OpenAPI gets `{id}`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** Role needed; `public` needs no token. */
  access: Role | 'public';
  params?: P;
  query?: Q;
  body?: B;
  headers?: H;
  response: R;
  /** Status of a success. @default 200 */
  status?: number;
  /** Other statuses this route answers with, for the document. */
  errors?: readonly number[];
  handler: (
    input: RouteInput<z.infer<P>, z.infer<Q>, z.infer<B>, z.infer<H>>,
  ) => Promise<RouteResult<z.input<R>>>;
}

/** Keeps the schema types of one route together (a plain object literal would widen them). */
export function route<
  P extends z.ZodType = z.ZodObject,
  Q extends z.ZodType = z.ZodObject,
  B extends z.ZodType = z.ZodUnknown,
  H extends z.ZodType = z.ZodObject,
  R extends z.ZodType = z.ZodType,
>(spec: RouteSpec<P, Q, B, H, R>): RouteSpec {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- widens the handler's input type
  return spec as unknown as RouteSpec;
}

/** Query-string numbers: `?limit=50`. */
export const queryInt = (minimum: number, maximum: number, fallback: number) =>
  z.coerce
    .number({ error: 'must be an integer' })
    .int('must be an integer')
    .min(minimum)
    .max(maximum)
    .default(fallback);

/** Query-string instants: ISO 8601 (`2026-11-24T10:00:00Z`). */
export const queryInstant = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 instant' });
