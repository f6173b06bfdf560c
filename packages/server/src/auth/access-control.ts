import type { IncomingMessage } from 'node:http';
import { CloseCodes, ErrorCodes, LivedashError, type Result } from '@livedash/protocol';
import { Registry } from 'prom-client';
import { ClientAddresses } from '../limits/client-address.js';
import { tooManyHeaders } from '../limits/header-limits.js';
import { HostPolicy } from '../limits/host-policy.js';
import { SecurityMetrics } from '../limits/limit-metrics.js';
import { OriginPolicy } from '../limits/origin-policy.js';
import { PerIpCounter } from '../limits/per-ip-counter.js';
import { Authenticator, type AuthOptions, type Principal } from './authenticator.js';
import { bearerToken } from './bearer-token.js';
import { anonymousBindRefusal } from './bind-policy.js';

/** The security-related server options (see `ServerOptions` and docs/security.md). */
export interface AccessOptions extends AuthOptions {
  host: string;
  publishToken: string;
  allowAnonymous: boolean;
  allowedOrigins: string[];
  /** Host names `Host` may carry besides the defaults (see `HostPolicy`). */
  allowedHosts: string[];
  maxConnectionsPerIp: number;
  maxSseStreamsPerIp: number;
  maxHeaders: number;
  /** Proxies (addresses, CIDRs, `loopback`) whose forwarding headers name the client. */
  trustProxy: string[];
}

/** Why an HTTP request or upgrade is refused before it reaches a transport. */
export interface HttpRefusal {
  status: number;
  code: LivedashError['code'];
  message: string;
}

export type Admission = Result<{ release: () => void }, HttpRefusal>;

/**
 * Everything a server needs to decide who gets in: credentials, origins, per-address counters and
 * the counters of refusals. One per server, shared by the transports.
 *
 * @example
 * const access = await AccessControl.create(options); // throws with the reason on unsafe config
 * access.attachMetrics(metrics.registry);
 * const admission = access.admitWebSocket(request);
 */
export class AccessControl {
  readonly authenticator: Authenticator;
  readonly origins: OriginPolicy;
  /** Which `Host` names are answered (DNS rebinding); told the address once the server listens. */
  readonly hosts: HostPolicy;
  /** Counters on a private registry until `attachMetrics` moves them to the server's. */
  #metrics = new SecurityMetrics(new Registry());
  readonly #wsPerIp: PerIpCounter;
  readonly #ssePerIp: PerIpCounter;
  readonly #maxHeaders: number;
  readonly #addresses: ClientAddresses;

  private constructor(options: AccessOptions, authenticator: Authenticator) {
    this.authenticator = authenticator;
    this.origins = new OriginPolicy(options.allowedOrigins);
    this.hosts = new HostPolicy(options.allowedHosts, options.host);
    this.#wsPerIp = new PerIpCounter(options.maxConnectionsPerIp);
    this.#ssePerIp = new PerIpCounter(options.maxSseStreamsPerIp);
    this.#maxHeaders = options.maxHeaders;
    this.#addresses = new ClientAddresses(options.trustProxy);
  }

  /** Throws (a startup error whose message says why and what to do) on an unsafe or unusable configuration. */
  static async create(options: AccessOptions): Promise<AccessControl> {
    const authenticator = await Authenticator.create(options.publishToken, options);
    const refusal = anonymousBindRefusal(options.host, authenticator.configured, options.allowAnonymous);
    if (refusal !== undefined) throw new Error(refusal);
    return new AccessControl(options, authenticator);
  }

  /** Registers the refusal counters on the server's registry (call once, before serving). */
  attachMetrics(registry: Registry): void {
    this.#metrics = new SecurityMetrics(registry);
  }

  get metrics(): SecurityMetrics {
    return this.#metrics;
  }

  /**
   * The client's address for limits and logs: the TCP peer, or the address a trusted proxy forwarded
   * for (see `ClientAddresses`).
   */
  clientAddress(request: IncomingMessage): string {
    return this.#addresses.of(request);
  }

  /** Header count, `Host`, origin and per-address connection limit for a WebSocket upgrade. */
  admitWebSocket(request: IncomingMessage): Admission {
    return this.#admit(request, this.#wsPerIp, 'connections_per_ip', 'WebSocket connections');
  }

  /** Header count, `Host`, origin and per-address stream limit for an SSE request. */
  admitSse(request: IncomingMessage): Admission {
    return this.#admit(request, this.#ssePerIp, 'sse_streams_per_ip', 'SSE streams');
  }

  /**
   * The checks of the header block every request and upgrade gets: header count (431), then `Host`
   * (400 when missing or malformed, 403 `host_not_allowed` for a name the server does not answer to).
   */
  checkHeaders(request: IncomingMessage): HttpRefusal | undefined {
    if (tooManyHeaders(request, this.#maxHeaders)) {
      this.metrics.limitHit('header_count');
      return {
        status: 431,
        code: ErrorCodes.TOO_LARGE,
        message: `more than ${this.#maxHeaders} header lines`,
      };
    }
    const host = this.hosts.check(request);
    if (host === undefined) return undefined;
    this.metrics.limitHit('host');
    const code = host.status === 403 ? ErrorCodes.HOST_NOT_ALLOWED : ErrorCodes.BAD_COMMAND;
    return { status: host.status, code, message: host.message };
  }

  /** The principal of a request from `Authorization: Bearer` or `?token=`; counts refusals. */
  async authenticate(
    request: IncomingMessage,
    queryToken: unknown,
  ): Promise<Result<Principal, LivedashError>> {
    const result = await this.authenticator.authenticate(
      bearerToken(request.headers.authorization, queryToken),
    );
    if (!result.ok)
      this.metrics.authRefused(
        result.error.code === ErrorCodes.TOKEN_EXPIRED ? 'token_expired' : 'unauthorized',
      );
    return result;
  }

  #admit(
    request: IncomingMessage,
    counter: PerIpCounter,
    limit: 'connections_per_ip' | 'sse_streams_per_ip',
    what: string,
  ): Admission {
    const headers = this.checkHeaders(request);
    if (headers) return { ok: false, error: headers };
    const origin = request.headers.origin;
    if (!this.origins.allows(origin, request.headers.host)) {
      this.metrics.limitHit('origin');
      const shown = String(origin).slice(0, 100);
      return {
        ok: false,
        error: { status: 403, code: ErrorCodes.FORBIDDEN, message: `origin ${shown} is not allowed` },
      };
    }
    const release = counter.acquire(this.#addresses.of(request));
    if (!release) {
      this.metrics.limitHit(limit);
      return {
        ok: false,
        error: { status: 429, code: ErrorCodes.RATE_LIMITED, message: `too many ${what} from your address` },
      };
    }
    return { ok: true, value: { release } };
  }
}

/** The WebSocket close for credentials that went bad mid-connection. */
export function expiredError(): LivedashError {
  return new LivedashError(
    ErrorCodes.TOKEN_EXPIRED,
    'token expired: reconnect with a fresh one, or send {"action":"auth"} before expiry',
    {
      closeCode: CloseCodes.TOKEN_EXPIRED,
    },
  );
}
