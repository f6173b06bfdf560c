import { isIP } from 'node:net';

/** True for `localhost`, 127.0.0.0/8, ::1 and their IPv4-mapped forms: only this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) {
    const lower = bare.toLowerCase();
    return lower === '::1' || lower === '0:0:0:0:0:0:0:1' || lower.startsWith('::ffff:127.');
  }
  return false;
}

/**
 * Refuses to serve every channel to anyone on the network by accident: bound to a non-loopback
 * address with no authentication configured, the server starts only with `allowAnonymous`.
 * Returns the reason to print, or undefined when starting is fine.
 *
 * @example
 * const reason = anonymousBindRefusal('0.0.0.0', false, false); // a sentence naming --allow-anonymous
 */
export function anonymousBindRefusal(
  host: string,
  authConfigured: boolean,
  allowAnonymous: boolean,
): string | undefined {
  if (authConfigured || allowAnonymous || isLoopbackHost(host)) return undefined;
  return (
    `refusing to listen on ${host} without authentication: anyone who can reach this address could read every channel. ` +
    'Configure JWT auth (--jwt-secret, --jwt-public-key or --jwks), bind to 127.0.0.1, ' +
    'or pass --allow-anonymous if open read access is intended.'
  );
}
