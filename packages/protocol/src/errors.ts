import type { ErrorCode } from './codes.js';

/**
 * A runtime or protocol failure with a stable `code`. Created and returned (or emitted), not thrown
 * across a network boundary. `closeCode` is set when the failure closes a WebSocket connection.
 */
export class LivedashError extends Error {
  override readonly name = 'LivedashError';
  readonly code: ErrorCode;
  readonly closeCode: number | undefined;
  /** The request `id` of the command that caused the error, echoed back to the client. */
  readonly id: number | string | undefined;

  constructor(code: ErrorCode, message: string, options: { closeCode?: number; id?: number | string } = {}) {
    super(message);
    this.code = code;
    this.closeCode = options.closeCode;
    this.id = options.id;
  }
}
