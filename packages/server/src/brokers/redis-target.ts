/**
 * Where the Redis broker finds Redis: one server by URL, a master found through Sentinel, or a Redis Cluster
 * found from a few of its nodes. Sentinel discovery and Cluster slot maps are the Redis client's own (ioredis),
 * so failovers and slot moves are followed the way that client follows them.
 *
 * ```ts
 * const target = parseSentinelTarget('10.0.0.1:26379,10.0.0.2:26379', 'mymaster');
 * if (target.ok) await connectRedisBroker({ target: target.value });
 * ```
 */
export interface HostPort {
  host: string;
  port: number;
}

/** User name and password for the Redis servers that hold the data (not for Sentinels). */
export interface RedisCredentials {
  username?: string;
  password?: string;
}

export type RedisTarget =
  | { kind: 'url'; url: string }
  | ({ kind: 'sentinel'; sentinels: HostPort[]; name: string } & RedisCredentials)
  /** A Redis Cluster: any of its nodes (more than one, so start-up does not hang on one being down). */
  | ({ kind: 'cluster'; nodes: HostPort[] } & RedisCredentials);

/** A master name Sentinel accepts: no spaces or control characters, at most 200 characters. */
const MASTER_NAME = /^[A-Za-z0-9_.:-]{1,200}$/;

/**
 * Parses `host:port,host:port,…` (an IPv6 address in brackets); an entry may carry `user:password@` in
 * front, which applies to the Redis servers holding the data. At most 64 entries.
 */
export function parseHostList(
  text: string,
  what: string,
): { ok: true; nodes: HostPort[]; credentials: RedisCredentials } | { ok: false; error: string } {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) return { ok: false, error: `${what} needs at least one host:port` };
  if (entries.length > 64) return { ok: false, error: `${what} lists more than 64 addresses` };
  const nodes: HostPort[] = [];
  const credentials: RedisCredentials = {};
  for (const entry of entries) {
    const at = entry.lastIndexOf('@');
    const address = at < 0 ? entry : entry.slice(at + 1);
    if (at >= 0) {
      const userinfo = entry.slice(0, at);
      const colon = userinfo.indexOf(':');
      const username = decodeOrSelf(colon < 0 ? '' : userinfo.slice(0, colon));
      const password = decodeOrSelf(colon < 0 ? userinfo : userinfo.slice(colon + 1));
      if (username !== '') credentials.username = username;
      if (password !== '') credentials.password = password;
    }
    const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(address);
    const port = Number(match?.[3]);
    if (!match || port < 1 || port > 65535) {
      return { ok: false, error: `${what}: "${redactEntry(entry)}" is not host:port` };
    }
    nodes.push({ host: match[1] ?? match[2] ?? '', port });
  }
  return { ok: true, nodes, credentials };
}

export function parseSentinelTarget(
  sentinels: string,
  name: string,
): { ok: true; value: RedisTarget } | { ok: false; error: string } {
  const parsed = parseHostList(sentinels, 'Sentinel list');
  if (!parsed.ok) return parsed;
  if (!MASTER_NAME.test(name)) {
    return { ok: false, error: `Sentinel master name must be 1-200 of A-Z a-z 0-9 _ . : -, got "${name}"` };
  }
  return { ok: true, value: { kind: 'sentinel', sentinels: parsed.nodes, name, ...parsed.credentials } };
}

/**
 * `host:port,host:port,…` of some nodes of a Redis Cluster (the rest are found from them); `user:password@`
 * in front of an entry authenticates to every node.
 *
 * ```ts
 * const target = parseClusterTarget('10.0.0.1:7000,10.0.0.2:7000');
 * ```
 */
export function parseClusterTarget(
  nodes: string,
): { ok: true; value: RedisTarget } | { ok: false; error: string } {
  const parsed = parseHostList(nodes, 'Redis Cluster node list');
  if (!parsed.ok) return parsed;
  return { ok: true, value: { kind: 'cluster', nodes: parsed.nodes, ...parsed.credentials } };
}

/** How the target is named in logs and errors, without passwords. */
export function describeTarget(target: RedisTarget): string {
  switch (target.kind) {
    case 'url':
      return redactUrl(target.url);
    case 'sentinel':
      return `Sentinel master "${target.name}" via ${target.sentinels.map(hostPort).join(',')}`;
    case 'cluster':
      return `Redis Cluster ${target.nodes.map(hostPort).join(',')}`;
  }
}

export function hostPort(node: HostPort): string {
  return node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`;
}

function decodeOrSelf(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function redactEntry(entry: string): string {
  const at = entry.lastIndexOf('@');
  return at < 0 ? entry : `***@${entry.slice(at + 1)}`;
}

/**
 * The URL as it may be logged: any password replaced by `***`.
 *
 * @example
 * redactUrl('redis://:s3cret@cache:6379/0'); // 'redis://:***@cache:6379/0'
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}
