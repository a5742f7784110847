/**
 * Every error a client sees has one shape, `{ "error": { "code", "message", "field" } }`, and is mapped
 * in one middleware. Nothing internal leaks: an unexpected error answers 500 `internal` with a request
 * id to find it in the log, never its message or stack.
 */
import type { ErrorRequestHandler } from 'express';
import type { z } from 'zod';

export const ErrorCode = {
  invalidJson: 'invalid_json',
  invalidRequest: 'invalid_request',
  unsupportedMediaType: 'unsupported_media_type',
  payloadTooLarge: 'payload_too_large',
  unauthenticated: 'unauthenticated',
  tokenExpired: 'token_expired',
  tokenInvalid: 'token_invalid',
  invalidCredentials: 'invalid_credentials',
  forbidden: 'forbidden',
  notFound: 'not_found',
  conflict: 'conflict',
  rateLimited: 'rate_limited',
  refused: 'refused',
  unavailable: 'unavailable',
  timeout: 'timeout',
  internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}

export function errorBody(code: ErrorCode, message: string, field?: string): ErrorBody {
  return { error: field === undefined ? { code, message } : { code, message, field } };
}

/** The first zod issue as an ApiError naming the field (`quantity`, `limit`, `Idempotency-Key`). */
export function validationError(error: z.ZodError, prefix?: string): ApiError {
  const issue = error.issues[0]!;
  const path = issue.path.map(String).join('.');
  const field = [prefix, path].filter(Boolean).join('.') || undefined;
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`
      : issue.message;
  const unknownField =
    issue.code === 'unrecognized_keys' ? [field, issue.keys[0]].filter(Boolean).join('.') : field;
  return new ApiError(
    400,
    ErrorCode.invalidRequest,
    field ? `${unknownField}: ${message}` : message,
    unknownField,
  );
}

interface HttpParserError {
  type?: string;
  status?: number;
  expose?: boolean;
}

/** Maps body-parser's errors (bad JSON, too large, wrong charset) to ours, and everything else to 500. */
export function errorMiddleware(
  onInternal: (error: unknown, requestId: string) => void,
): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    if (error instanceof ApiError) {
      res.status(error.status).json(errorBody(error.code, error.message, error.field));
      return;
    }
    const parser = error as HttpParserError;
    if (parser.type === 'entity.parse.failed') {
      res.status(400).json(errorBody(ErrorCode.invalidJson, 'the body is not valid JSON'));
      return;
    }
    if (parser.type === 'entity.too.large') {
      res.status(413).json(errorBody(ErrorCode.payloadTooLarge, 'the body is too large'));
      return;
    }
    if (parser.type === 'charset.unsupported' || parser.type === 'encoding.unsupported') {
      res.status(415).json(errorBody(ErrorCode.unsupportedMediaType, 'unsupported body encoding'));
      return;
    }
    if (parser.expose && parser.status && parser.status >= 400 && parser.status < 500) {
      res.status(parser.status).json(errorBody(ErrorCode.invalidRequest, 'the request could not be read'));
      return;
    }
    const requestId = crypto.randomUUID();
    onInternal(error, requestId);
    res.status(500).json(errorBody(ErrorCode.internal, `internal error (request ${requestId})`));
  };
}
