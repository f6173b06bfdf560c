/**
 * Redis Cluster's key-to-slot rule, so the broker knows which shard holds a channel without asking: the
 * CRC16 (XMODEM) of the key's hash tag — the text between the first `{` and the first `}` after it, when
 * not empty — or else of the whole key, modulo 16384.
 *
 * ```ts
 * keySlot('livedash:{orders}:seq') === keySlot('orders'); // true: every key of a channel shares its slot
 * ```
 */
export const SLOT_COUNT = 16384;

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ byte) & 0xff] ?? 0);
  return crc;
}

const encoder = new TextEncoder();

export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  return crc16(encoder.encode(key)) % SLOT_COUNT;
}

let tags: string[] | undefined;

/**
 * A short text whose slot is `slot`, to name a key that must live in that slot (`prefix{<tag>}`): the
 * shortest base-36 numbers, found once (about 160,000 CRCs, a few milliseconds) the first time it is asked.
 */
export function slotTag(slot: number): string {
  if (tags === undefined) {
    const found: string[] = new Array(SLOT_COUNT);
    let missing = SLOT_COUNT;
    for (let n = 0; missing > 0; n++) {
      const text = n.toString(36);
      const at = crc16(encoder.encode(text)) % SLOT_COUNT;
      if (found[at] === undefined) {
        found[at] = text;
        missing--;
      }
    }
    tags = found;
  }
  const tag = tags[slot];
  if (tag === undefined) throw new RangeError(`no slot ${slot}`);
  return tag;
}
