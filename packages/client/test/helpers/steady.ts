import type { LivedashServer } from '@livedash/server';

/** Publishes `{n}` on `channel` every `everyMs` (n = 1, 2, …) until `stop()`, which returns how many. */
export function steadyPublisher(server: LivedashServer, channel: string, everyMs: number) {
  let n = 0;
  const timer = setInterval(() => void server.hub.publish(channel, { n: ++n }), everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return n;
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** 1, 2, …, n */
export const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
