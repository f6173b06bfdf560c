// Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine:
// the publisher stamps messages with it and the load generator subtracts it on receipt.
const origin = performance.timeOrigin;

export function nowMs() {
  return origin + performance.now();
}
