import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { PeerFaults } from '../peer-faults.js';
import { awaitContinue } from './body-refusal.js';
import { serveIgnoringUpgrade } from './other-upgrade.js';

/** Which requests and upgrades livedash serves, and how; the rest stay the server's own listeners'. */
export interface LiveTakers {
  ownsRequest(request: IncomingMessage): boolean;
  serveRequest(request: IncomingMessage, response: ServerResponse): void;
  /**
   * An `Expect: 100-continue` request for one of livedash's routes: it goes on as a plain `request`
   * without `100 Continue`, which livedash's route sends once the checks that need no body pass (or
   * its final answer instead: see body-refusal.ts).
   */
  ownsContinue(request: IncomingMessage): boolean;
  ownsUpgrade(request: IncomingMessage): boolean;
  serveUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Where an unexpected exception while serving is counted and logged (`ServerMetrics.faults`). */
  faults: PeerFaults;
}

type Emit = Server['emit'];

/**
 * Puts livedash in front of a server the user already runs, whatever order listeners are added in.
 * A listener cannot stop the listeners after it, and Socket.IO's way (take the `request` listeners
 * there are at attach time and call them for what it does not serve) misses every listener added
 * later: both would answer `/ws`. So the server's `emit` is wrapped for this one server: `request`,
 * `checkContinue` and `upgrade` events livedash takes never reach the user's listeners, every other
 * event and request goes on to them unchanged, added before or after. `release()` unwraps it (or,
 * when something wrapped `emit` after us, turns the wrapper into a pass-through).
 *
 * Node emits `upgrade` only when someone listens to it (otherwise the request is a plain one), so a
 * listener is added too; when it is the only one, an upgrade livedash does not take is served as the
 * plain request it also is, as Node would have done without it. The same for `checkContinue`: Node
 * answers `100 Continue` by itself only while nobody listens, so livedash, listening to refuse a body
 * before it is sent, gives every request it does not take what Node would have: `100 Continue`, then
 * `request`.
 */
export function interceptLiveRequests(server: Server, takers: LiveTakers): () => void {
  const ownEmit = Object.hasOwn(server, 'emit') ? server.emit : undefined;
  const emit = server.emit;
  let active = true;
  const wrapped = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (active) {
      if (event === 'checkContinue' && takers.ownsContinue(args[0] as IncomingMessage)) {
        awaitContinue(args[0] as IncomingMessage);
        return Reflect.apply(wrapped, this, ['request', ...args]) as boolean;
      }
      if (take(takers, event, args)) return true;
    }
    return Reflect.apply(emit, this, [event, ...args]) as boolean;
  } as Emit;
  server.emit = wrapped;
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (server.listenerCount('upgrade') === 1) serveIgnoringUpgrade(server, request, socket, head);
  };
  const onCheckContinue = (request: IncomingMessage, response: ServerResponse) => {
    if (server.listenerCount('checkContinue') > 1) return;
    response.writeContinue();
    server.emit('request', request, response);
  };
  server.on('upgrade', onUpgrade);
  server.on('checkContinue', onCheckContinue);
  return () => {
    if (!active) return;
    active = false;
    server.removeListener('upgrade', onUpgrade);
    server.removeListener('checkContinue', onCheckContinue);
    if (server.emit !== wrapped) return;
    if (ownEmit) server.emit = ownEmit;
    else Reflect.deleteProperty(server, 'emit');
  };
}

function take(takers: LiveTakers, event: string | symbol, args: unknown[]): boolean {
  if (event === 'request') {
    const [request, response] = args as [IncomingMessage, ServerResponse];
    if (!takers.ownsRequest(request)) return false;
    try {
      takers.serveRequest(request, response);
    } catch (error) {
      // Thrown here it would reach Node's parser and take down the user's whole process.
      dropAfterFault(takers.faults, 'request', request.socket, error);
    }
    return true;
  }
  if (event === 'upgrade') {
    const [request, socket, head] = args as [IncomingMessage, Duplex, Buffer];
    if (!takers.ownsUpgrade(request)) return false;
    try {
      takers.serveUpgrade(request, socket, head);
    } catch (error) {
      dropAfterFault(takers.faults, 'upgrade', socket, error);
    }
    return true;
  }
  return false;
}

/** `/sse`, `/api/channels` and everything under it, behind `prefix`: the paths livedash serves over HTTP. */
export function isLivePath(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  const rest = path.slice(prefix.length);
  return rest === '/sse' || rest === '/api/channels' || rest.startsWith('/api/channels/');
}

/** The path of a request's target, before `?` (an absolute-form target keeps its scheme and host, so matches no path). */
export function requestPath(request: IncomingMessage): string {
  const url = request.url ?? '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** A request livedash took failed unexpectedly: that one peer is dropped, the fault counted and logged. */
function dropAfterFault(
  faults: PeerFaults,
  where: 'request' | 'upgrade',
  socket: Duplex | null,
  error: unknown,
): void {
  faults.record(where, error);
  socket?.destroy();
}
