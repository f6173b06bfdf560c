/** Which page the path asks for: `/` (home), `/d` (the index of dashboards) or `/d/<name>`. */
export type Route = { kind: 'home' } | { kind: 'index' } | { kind: 'dashboard'; name: string };

export function routeOf(pathname: string): Route {
  if (pathname === '/d' || pathname === '/d/') return { kind: 'index' };
  const match = /^\/d\/([^/]+)\/?$/.exec(pathname);
  if (match?.[1] !== undefined) {
    try {
      return { kind: 'dashboard', name: decodeURIComponent(match[1]) };
    } catch {
      return { kind: 'dashboard', name: match[1] };
    }
  }
  return { kind: 'home' };
}

/** The page of a dashboard: `/d/<name>`. */
export function dashboardPath(name: string): string {
  return `/d/${encodeURIComponent(name)}`;
}
