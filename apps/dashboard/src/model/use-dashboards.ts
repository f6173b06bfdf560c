import { DASHBOARDS_CHANNEL } from '@livedash/dashboard-config';
import { useEffect, useState } from 'react';
import { useClient } from '../live.js';
import { type ConfigState, loadConfig } from './load-config.js';
import type { Route } from './route.js';

/**
 * What the route shows, kept current: loaded once, then again whenever the server announces on
 * `livedash.dashboards` that a dashboard file changed (the channel's messages only say *that*
 * something changed; the dashboards themselves always come from the HTTP API). `attempt` reloads on
 * demand ("Try again").
 */
export function useDashboards(route: Route, attempt: number): ConfigState {
  const client = useClient();
  const [state, setState] = useState<ConfigState>({ status: 'loading' });
  const name = route.kind === 'dashboard' ? route.name : undefined;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the route is named by its kind and name; `attempt` reloads.
  useEffect(() => {
    let current = true;
    let latest = 0;
    let loadedRevision: number | undefined;
    const load = () => {
      const request = ++latest;
      void loadConfig(route).then((result) => {
        // Answers can overtake each other; only the newest request's answer is shown.
        if (!current || request !== latest) return;
        if (result.status === 'ready') loadedRevision = result.index.revision;
        // A failed reload keeps what is on screen; the first load shows the failure.
        setState((previous) => {
          if (result.status === 'error' && previous.status === 'ready') return previous;
          // An announcement about another file changes nothing here: keep the same objects, so the
          // panels and charts are not rebuilt.
          if (result.status === 'ready' && previous.status === 'ready' && sameDocument(previous, result))
            return { ...result, document: previous.document };
          return result;
        });
      });
    };
    load();
    const unsubscribe = client.subscribe(DASHBOARDS_CHANNEL, (data) => {
      const revision = (data as { revision?: unknown } | null)?.revision;
      if (revision !== loadedRevision) load();
    });
    return () => {
      current = false;
      unsubscribe();
    };
  }, [client, route.kind, name, attempt]);
  return state;
}

type Ready = Extract<ConfigState, { status: 'ready' }>;

function sameDocument(previous: Ready, next: Ready): boolean {
  return previous.name === next.name && JSON.stringify(previous.document) === JSON.stringify(next.document);
}
