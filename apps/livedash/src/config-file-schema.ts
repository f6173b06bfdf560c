import { Defaults } from '@livedash/protocol';
import { duration, historyRuleSchema, listOf, serverOptionShapes } from '@livedash/server';
import { z } from 'zod';
import { alertRuleSchema, OPTION_SOURCES } from './option-sources.js';

/**
 * The schema of `livedash.config.json`, built from `OPTION_SOURCES` (each key checked by its option's
 * schema) plus the file's own forms: history and alert rules with durations, `transports` as an
 * object, and the secrets it refuses. `config-file.json-schema` is generated from it for editors.
 */

/** Keys whose value names a file that is read once the rest is valid (config-key-files.ts). */
export const FILE_READ_KEYS = new Set([
  'jwt.publicKeyFile',
  'jwt.jwksFile',
  'tls.certFile',
  'tls.keyFile',
  'dashboard',
  'dashboards',
  'staticDir',
]);

/** A key refused with the reason and where the setting goes instead. */
const refused = (hint: string) => z.never({ error: hint }).optional().describe(`Refused: ${hint}.`);

/** A history rule as the file writes it: `maxAge` is a duration; what it leaves out is the server default. */
const historyEntrySchema = z
  .strictObject({
    pattern: historyRuleSchema.shape.pattern.describe('A channel name, "*", or a prefix ending in "*".'),
    maxMessages: historyRuleSchema.shape.maxMessages.optional().describe('Most messages kept.'),
    maxAge: duration(1000, 30 * 86_400_000)
      .optional()
      .describe('Oldest message kept: milliseconds, or a string like "10s", "5m", "24h".'),
  })
  .transform(({ pattern, maxMessages, maxAge }) => ({
    pattern,
    maxMessages: maxMessages ?? Defaults.historyMessages,
    maxAgeMs: maxAge ?? Defaults.historyMaxAgeMs,
  }));

/** An alert rule as the file writes it, mapped onto `AlertRule` (`for` → `forMs`). */
const alertEntrySchema = alertRuleSchema.transform(({ for: forMs, ...rule }) => ({ ...rule, forMs }));

function buildConfigFileSchema() {
  const top: Record<string, z.ZodType> = {};
  const sections: Record<string, Record<string, z.ZodType>> = {};
  for (const source of OPTION_SOURCES) {
    if (source.key === undefined) continue;
    const [first, second] = source.key.split('.') as [string, string | undefined];
    let value: z.ZodType = source.value.optional();
    if (source.key === 'history') value = listOf(historyEntrySchema, 1000).optional();
    else if (source.key === 'alerts') value = listOf(alertEntrySchema, 1000).optional();
    else if (source.key === 'transports')
      value = serverOptionShapes.transports
        .partial()
        .optional()
        .describe('Transports to serve; a key left out stays true.');
    else if (source.key.startsWith('tls.')) value = source.value; // certificate and key go together
    if (second === undefined) top[first] = value;
    else {
      // The section takes the place of its first key, so keys keep the table's order.
      top[first] ??= z.never();
      sections[first] ??= {};
      sections[first][second] = value;
    }
  }
  sections.jwt ??= {};
  sections.jwt.secret = refused(
    'not read from the config file, so the secret stays out of files that get committed; set LIVEDASH_JWT_SECRET',
  );
  for (const [name, fields] of Object.entries(sections)) {
    top[name] = z.strictObject(fields).optional();
  }
  top.publishToken = refused(
    'not read from the config file, so the token stays out of files that get committed; set LIVEDASH_PUBLISH_TOKEN',
  );
  top.$schema = z.string().optional().describe('The JSON Schema of this file, for editors.');
  return z.strictObject(top);
}

export const configFileSchema = buildConfigFileSchema();
