import { type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ErrorCode, ErrorCodes } from '@livedash/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Every HTTP error body: `{"error":{"code","message"}}` with a stable code from `ErrorCodes`. */
export interface HttpErrorBody {
  error: { code: ErrorCode; message: string };
}

/**
 * Answers with livedash's JSON error body, so routes added next to livedash's (`createServer`'s
 * `routes` option) fail the way its own do.
 *
 * @example
 * app.get('/reports/:id', async (request, reply) =>
 *   sendError(reply, 404, ErrorCodes.NOT_FOUND, 'no such report'));
 */
export function sendError(
  reply: FastifyReply,
  status: number,
  code: ErrorCode,
  message: string,
): FastifyReply {
  const body: HttpErrorBody = { error: { code, message } };
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/** The default answer to a request no route matches: 404 with the JSON error body. */
export function answerNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(
    reply,
    404,
    ErrorCodes.NOT_FOUND,
    `no route ${request.method} ${request.url.slice(0, 128)}`,
  );
}

/**
 * Fastify's answer to a request its router cannot take (a request-target whose percent-encoded bytes
 * are not UTF-8): 400 with the JSON error body, like livedash's own refusals.
 */
export function answerFrameworkError(
  error: Error,
  _request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const message =
    (error as { code?: string }).code === 'FST_ERR_BAD_URL'
      ? 'the request target is not valid percent-encoded UTF-8'
      : error.message;
  return sendError(reply, 400, ErrorCodes.BAD_COMMAND, message);
}

/**
 * Node's answer to a request its HTTP parser refuses before any route runs (a malformed request,
 * a header block over `maxHeaderBytes`, a request not received within `requestTimeoutMs`): the
 * status and the JSON error body, then the socket is destroyed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let code: ErrorCode = ErrorCodes.BAD_COMMAND;
  let message = 'the request is not valid HTTP/1.1';
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    code = ErrorCodes.TOO_LARGE;
    message = 'the request line and headers are over the server limit (maxHeaderBytes)';
  } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    message = 'the request did not arrive in time (requestTimeoutMs)';
  }
  const body = JSON.stringify({ error: { code, message } } satisfies HttpErrorBody);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * A refusal answered on the raw response, before Fastify sees the request (a target or transfer
 * coding the server cannot read, an `Expect` it does not meet): the JSON error body, and the
 * connection closed after it.
 */
export function answerAndClose(response: ServerResponse, status: number, reason: string): void {
  const body = JSON.stringify({
    error: { code: ErrorCodes.BAD_COMMAND, message: reason },
  } satisfies HttpErrorBody);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  response.end(body);
}
