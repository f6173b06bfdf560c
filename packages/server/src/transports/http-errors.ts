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
