import { LiveClient } from '@livedash/client';

// Vite replaces `import.meta.env` at build time; this declaration matches the one in `vite/client`, so
// the two merge in apps that include both.
declare global {
  interface ImportMetaEnv {
    readonly VITE_WS_URL?: string;
  }
  interface ImportMeta {
    readonly env: ImportMetaEnv;
  }
}

let shared: LiveClient | undefined;

/**
 * The URL hooks connect to without a `LiveProvider`: `import.meta.env.VITE_WS_URL` in a Vite app when set
 * (as in the guide), otherwise the page's own origin. `undefined` where neither exists (server rendering).
 */
export function defaultClientUrl(): string | undefined {
  let fromEnv: string | undefined;
  try {
    // Outside Vite `import.meta.env` is undefined; in some bundlers touching it throws.
    fromEnv = import.meta.env?.VITE_WS_URL;
  } catch {
    fromEnv = undefined;
  }
  if (typeof fromEnv === 'string' && fromEnv !== '') return fromEnv;
  const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
  return typeof origin === 'string' && /^https?:\/\//.test(origin) ? origin : undefined;
}

/**
 * The client shared by every hook rendered without a `LiveProvider`, created on first use. It connects
 * when the first hook subscribes, so merely rendering (or server rendering) opens nothing. Returns
 * `undefined` when there is no URL to connect to (server rendering): hooks then render their initial values.
 */
export function getDefaultClient(): LiveClient | undefined {
  if (shared !== undefined) return shared;
  const url = defaultClientUrl();
  if (url === undefined) return undefined;
  shared = new LiveClient({ url, autoConnect: false });
  return shared;
}

/** Closes and forgets the shared client (tests, or a page that changes servers). The next hook makes a new one. */
export function resetDefaultClient(): void {
  shared?.close();
  shared = undefined;
}
