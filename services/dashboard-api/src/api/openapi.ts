/** The OpenAPI 3.1 document, generated from the routes' own zod schemas (zod's JSON Schema output). */
import { z } from 'zod';

import type { RouteSpec } from './route';

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'machine-readable: invalid_request, forbidden, …' },
        message: { type: 'string' },
        field: { type: 'string', description: 'the request field at fault, when there is one' },
      },
    },
  },
};

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'created',
  202: 'accepted; the outcome follows on the WebSocket',
  400: 'invalid JSON or an invalid field (named in `error.field`)',
  401: 'no token, or an expired or forged one',
  403: 'the role does not allow it',
  404: 'not found',
  409: 'conflicts with the current state',
  413: 'body too large',
  422: 'refused by the service that handles it',
  429: 'rate limited',
  503: 'a dependency is unavailable',
  504: 'no answer in time',
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const result = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete result.$schema;
  return result;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query' | 'header'): unknown[] {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input') as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (object.required ?? []).includes(name),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

export function openApiDocument(routes: readonly RouteSpec[], info: { version: string }): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of routes) {
    const path = spec.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const status = spec.status ?? 200;
    const responses: Record<string, unknown> = {
      [status]: {
        description: STATUS_TEXT[status] ?? 'success',
        content: { 'application/json': { schema: jsonSchema(spec.response, 'output') } },
      },
    };
    const errorStatuses = new Set<number>([
      ...(spec.access === 'public' ? [] : [401, 429]),
      ...(spec.access === 'operator' ? [403] : []),
      ...(spec.body || spec.query || spec.params ? [400] : []),
      ...(spec.errors ?? []),
    ]);
    for (const code of [...errorStatuses].sort())
      responses[code] = {
        description: STATUS_TEXT[code] ?? 'error',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    paths[path] ??= {};
    paths[path][spec.method] = {
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: [spec.tag],
      operationId: `${spec.method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...(spec.access === 'public' ? { security: [] } : {}),
      ...(spec.access === 'operator' ? { 'x-required-role': 'operator' } : {}),
      parameters: [
        ...parameters(spec.params, 'path'),
        ...parameters(spec.query, 'query'),
        ...parameters(spec.headers, 'header'),
      ],
      ...(spec.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(spec.body, 'input') } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ibstack dashboard-api',
      version: info.version,
      description:
        'REST API of the ibstack dashboard. Authenticate with POST /api/auth/login, then send the token as ' +
        '`Authorization: Bearer <token>` (or let the browser keep the httpOnly cookie). Live data: the ' +
        'WebSocket at /ws (send {"type":"authenticate","payload":{"token":…}} first).',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        cookie: { type: 'apiKey', in: 'cookie', name: 'ibstack_token' },
      },
      schemas: { Error: ERROR_SCHEMA },
    },
    security: [{ bearer: [] }, { cookie: [] }],
    paths,
  };
}
