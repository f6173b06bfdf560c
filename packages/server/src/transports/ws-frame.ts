import { MessageBytes } from '../message-bytes.js';

/**
 * Builds an unmasked, final WebSocket text frame (RFC 6455 §5.2: server frames are never masked)
 * around `text`, header and payload in one Buffer, so it can be written to any number of sockets.
 */
export function encodeTextFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81; // FIN + opcode 1 (text)
  if (header === 2) frame[1] = length;
  else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(length, 6);
  }
  frame.write(text, header, 'utf8');
  return frame;
}

/** Each message's WebSocket frame, built once for every socket it goes to. */
export function frameCache(): MessageBytes {
  return new MessageBytes((message) => encodeTextFrame(message.frame));
}
