import type { ErrorCode } from '@livedash/protocol';
import type { FastifyReply } from 'fastify';

/** Every HTTP error body: `{"error":{"code","message"}}` with a stable code from `ErrorCodes`. */
export interface HttpErrorBody {
  error: { code: ErrorCode; message: string };
}

export function sendError(
  reply: FastifyReply,
  status: number,
  code: ErrorCode,
  message: string,
): FastifyReply {
  const body: HttpErrorBody = { error: { code, message } };
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}
