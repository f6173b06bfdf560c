/**
 * The page signals the client reacts to: network `online`/`offline` and tab visibility. Defaults to the
 * browser's `window`, `navigator` and `document`; in Node (or tests) pass your own or nothing.
 */
export interface EnvironmentLike {
  /** False when the browser knows it has no network. */
  isOnline(): boolean;
  /** False while the page is hidden (a background tab). */
  isVisible(): boolean;
  /** Registers listeners; returns a function removing them. */
  listen(handlers: { online(): void; offline(): void; visible(): void; hidden(): void }): () => void;
}

/** The parts of `window`, `document` and `navigator` read here (typed locally so Node builds compile). */
interface PageEvents {
  addEventListener?(type: string, listener: () => void): void;
  removeEventListener?(type: string, listener: () => void): void;
}
interface PageDocument extends PageEvents {
  visibilityState?: string;
}

/** The browser's signals, or an always-online, always-visible environment where there is no browser. */
export function browserEnvironment(): EnvironmentLike {
  const target = globalThis as PageEvents;
  const doc = (globalThis as { document?: PageDocument }).document;
  const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
  return {
    isOnline: () => nav?.onLine !== false,
    isVisible: () => doc?.visibilityState !== 'hidden',
    listen(handlers) {
      if (typeof target.addEventListener !== 'function') return () => {};
      const onVisibility = () => (doc?.visibilityState === 'hidden' ? handlers.hidden() : handlers.visible());
      target.addEventListener('online', handlers.online);
      target.addEventListener('offline', handlers.offline);
      doc?.addEventListener?.('visibilitychange', onVisibility);
      return () => {
        target.removeEventListener?.('online', handlers.online);
        target.removeEventListener?.('offline', handlers.offline);
        doc?.removeEventListener?.('visibilitychange', onVisibility);
      };
    },
  };
}
