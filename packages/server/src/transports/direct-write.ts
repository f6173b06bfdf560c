import { writeSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';

/**
 * The file descriptor a socket's bytes can be written to directly, or -1 when there is none: TLS
 * (bytes must be encrypted first), Windows, a stream that is not a kernel socket (a proxy's or a
 * test's Duplex), or a Node release whose sockets no longer expose `_handle.fd`. That field is a Node
 * internal, so it is read here and nowhere else; when it is missing every write takes `socket.write`
 * (slower, never broken).
 *
 * @example
 * const fd = socketDescriptor(socket); // once per connection
 * writeToSocket(socket, fd, frame);
 */
export function socketDescriptor(socket: Duplex): number {
  if (socket instanceof TLSSocket) return -1;
  try {
    const fd = (socket as { _handle?: { fd?: unknown } | null })._handle?.fd;
    return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : -1;
  } catch {
    // A future Node might guard its internals with a throwing getter: no descriptor, then.
    return -1;
  }
}

/**
 * Writes `chunk` to `socket`: straight to its descriptor `fd` (one syscall, none of the stream
 * machinery) when there is one and nothing waits in Node's buffer, else through `socket.write`. What
 * the kernel does not take goes through `socket.write`, which queues everything after it, so bytes
 * never reorder. `written` is called once the bytes have left Node's buffer (or the write failed): at
 * once, before this returns, when the kernel took them all. Returns false when the caller should wait
 * for 'drain' (or the socket is finished).
 */
export function writeToSocket(socket: Duplex, fd: number, chunk: Buffer, written?: () => void): boolean {
  if (socket.writableEnded || socket.destroyed) return false;
  if (fd < 0 || socket.writableLength > 0 || socket.writableCorked > 0) return socket.write(chunk, written);
  let taken = 0;
  try {
    taken = writeSync(fd, chunk);
  } catch {
    // EAGAIN (the kernel buffer is full) or a failing socket: Node's own write path queues the bytes
    // or reports the error through the socket's events.
  }
  if (taken === chunk.length) {
    written?.();
    return true;
  }
  return socket.write(taken === 0 ? chunk : chunk.subarray(taken), written);
}
