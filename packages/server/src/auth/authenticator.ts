import { CloseCodes, ErrorCodes, LivedashError, type Result } from '@livedash/protocol';
import { type ChannelGrant, EMPTY_GRANT, FULL_GRANT, grantAllows } from './channel-grant.js';
import { constantTimeEqual } from './constant-time.js';
import { createTokenVerifier, type JwtOptions, type TokenVerifier } from './token-verifier.js';

/**
 * Who is on the other end of a connection or request:
 * - `anonymous`: no credentials; gets the configured anonymous grant;
 * - `publisher`: presented the server's publish token; may do everything;
 * - `token`: presented a valid JWT; gets the channels its claims list, until `expiresAt`.
 */
export type Principal =
  | { kind: 'anonymous'; grant: ChannelGrant }
  | { kind: 'publisher'; grant: ChannelGrant }
  | { kind: 'token'; grant: ChannelGrant; subject: string | undefined; expiresAt: number };

export interface AuthOptions {
  /** JWT verification; undefined means no authentication is configured (anonymous clients see every channel). */
  jwt: JwtOptions | undefined;
  /**
   * Channel patterns anonymous clients may subscribe to. Undefined: every channel when `jwt` is not
   * configured, none when it is.
   */
  anonymousChannels: string[] | undefined;
}

/**
 * Turns presented credentials into a `Principal`. One per server.
 *
 * @example
 * const auth = await Authenticator.create('publish-secret', { jwt: { secret }, anonymousChannels: ['metrics'] });
 * const who = await auth.authenticate(bearerToken(req.headers.authorization, query.token));
 * if (who.ok && canSubscribe(who.value, 'metrics')) …
 */
export class Authenticator {
  readonly #publishToken: string;
  readonly #verifier: TokenVerifier | undefined;
  readonly #anonymous: Principal;

  private constructor(
    publishToken: string,
    verifier: TokenVerifier | undefined,
    anonymousChannels: string[],
  ) {
    this.#publishToken = publishToken;
    this.#verifier = verifier;
    this.#anonymous = {
      kind: 'anonymous',
      grant: { subscribe: anonymousChannels, publish: EMPTY_GRANT.publish },
    };
  }

  /** Throws when the JWT key configuration is unusable (a startup error, with the reason). */
  static async create(publishToken: string, options: AuthOptions): Promise<Authenticator> {
    const verifier = options.jwt === undefined ? undefined : await createTokenVerifier(options.jwt);
    const anonymous = options.anonymousChannels ?? (verifier === undefined ? [...FULL_GRANT.subscribe] : []);
    return new Authenticator(publishToken, verifier, anonymous);
  }

  /** True when JWTs are checked, i.e. anonymous clients do not automatically see every channel. */
  get configured(): boolean {
    return this.#verifier !== undefined;
  }

  get anonymous(): Principal {
    return this.#anonymous;
  }

  /** `undefined` (no credentials) yields the anonymous principal; a wrong token is an error, never anonymous. */
  async authenticate(token: string | undefined): Promise<Result<Principal, LivedashError>> {
    if (token === undefined) return { ok: true, value: this.#anonymous };
    if (constantTimeEqual(token, this.#publishToken))
      return { ok: true, value: { kind: 'publisher', grant: FULL_GRANT } };
    if (this.#verifier === undefined) {
      return {
        ok: false,
        error: new LivedashError(ErrorCodes.UNAUTHORIZED, 'wrong token', {
          closeCode: CloseCodes.UNAUTHORIZED,
        }),
      };
    }
    const verified = await this.#verifier.verify(token);
    if (!verified.ok) return verified;
    // What anonymous clients may read, token holders may read too.
    const { grant } = verified.value;
    const subscribe = [...grant.subscribe, ...this.#anonymous.grant.subscribe];
    return {
      ok: true,
      value: { kind: 'token', ...verified.value, grant: { subscribe, publish: grant.publish } },
    };
  }
}

export function canSubscribe(principal: Principal, channel: string): boolean {
  return grantAllows(principal.grant.subscribe, channel);
}

export function canPublish(principal: Principal, channel: string): boolean {
  return grantAllows(principal.grant.publish, channel);
}

/**
 * The refusal for an action the principal may not take: anonymous clients are told to authenticate
 * (`unauthorized`), authenticated ones that the channel is not theirs (`forbidden`).
 */
export function refusal(
  principal: Principal,
  action: 'subscribe to' | 'publish to',
  channel: string,
): LivedashError {
  if (principal.kind === 'anonymous') {
    return new LivedashError(ErrorCodes.UNAUTHORIZED, `a token is needed to ${action} "${channel}"`);
  }
  return new LivedashError(ErrorCodes.FORBIDDEN, `the token does not allow you to ${action} "${channel}"`);
}

/** ms until the principal's credentials expire; undefined when they never do. */
export function msUntilExpiry(principal: Principal, now = Date.now()): number | undefined {
  return principal.kind === 'token' ? principal.expiresAt - now : undefined;
}
