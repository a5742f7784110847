/**
 * Token → user, for REST and the WebSocket alike: a valid signature and lifetime, and a user that still
 * exists with that role and has not changed its password since the token was issued.
 */
import { ApiError, ErrorCode } from '../api/errors';
import type { TokenClaims, TokenIssuer } from './tokens';
import type { UserCache } from './users';

export class Authenticator {
  constructor(
    private readonly tokens: TokenIssuer,
    private readonly users: UserCache,
  ) {}

  async authenticate(token: string | null): Promise<TokenClaims> {
    if (!token)
      throw new ApiError(
        401,
        ErrorCode.unauthenticated,
        'log in first: no token (Authorization: Bearer or the session cookie)',
      );
    const verified = await this.tokens.verify(token);
    if (!verified.ok)
      throw verified.problem === 'expired'
        ? new ApiError(401, ErrorCode.tokenExpired, 'the token has expired; log in again')
        : new ApiError(401, ErrorCode.tokenInvalid, 'the token is not valid');
    const user = await this.users.get(verified.claims.username);
    if (!user || user.role !== verified.claims.role || verified.claims.issuedAt < user.validAfter)
      throw new ApiError(401, ErrorCode.tokenInvalid, 'the token is no longer valid; log in again');
    return verified.claims;
  }
}
