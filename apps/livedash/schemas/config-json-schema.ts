import { z } from 'zod';
import { configFileSchema } from '../src/config-file-schema.js';

/**
 * The JSON Schema of `livedash.config.json`, generated from the zod schema the server checks the file
 * with (`configFileSchema`) and committed as `livedash.config.schema.json` by `scripts/json-schemas.mjs`,
 * so editors complete and check the file as the server will. It describes what the file may hold (the
 * input: durations as `"10s"` or milliseconds); checks written as code (a host without spaces, an
 * origin, a CIDR) show as the key's description and are made by the server at start.
 */
export function configFileJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(
    configFileSchema.meta({
      title: 'livedash.config.json',
      description: 'The livedash server config file (docs/configuration.md).',
    }),
    { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' },
  ) as Record<string, unknown>;
}
