import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { JwtOptions } from '@livedash/server';
import type { ConfigFileOptions } from './config-file.js';
import { loadDashboardConfig } from './dashboard-file.js';

type JsonWebKeySet = NonNullable<JwtOptions['jwks']>;

/**
 * The files a config file points to — the JWT public key or key set, the TLS certificate and key, the
 * dashboard config and the static directory — checked and read after the config itself validated.
 * Relative paths are relative to the config file.
 */

type Fields = Record<string, unknown>;

/** The JWT section names where the verification key comes from: exactly one place. */
export function checkOneKeySource(jwt: Fields, errors: string[]): void {
  const sources = ['publicKeyFile', 'jwksFile'].filter((key) => jwt[key] !== undefined);
  if (sources.length === 1) return;
  errors.push(
    sources.length === 0
      ? 'jwt: expected publicKeyFile or jwksFile (an HS256 secret comes from LIVEDASH_JWT_SECRET, not the file)'
      : 'jwt: expected only one of publicKeyFile and jwksFile',
  );
}

/**
 * Reads the files the config names (JWT key or key set, TLS certificate and key); relative paths are
 * relative to the config file's directory.
 */
export function readReferencedFiles(config: Fields, baseDir: string, errors: string[]): ConfigFileOptions {
  const read = (file: string, at: string): string | undefined => {
    try {
      return readFileSync(resolve(baseDir, file), 'utf8');
    } catch (error) {
      errors.push(
        `${at}: cannot read ${resolve(baseDir, file)}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
      return undefined;
    }
  };
  const options: ConfigFileOptions = {};
  const jwt = config.jwt as Fields | undefined;
  if (jwt) {
    const claims: JwtOptions = {};
    if (jwt.issuer !== undefined) claims.issuer = jwt.issuer as string;
    if (jwt.audience !== undefined) claims.audience = jwt.audience as string;
    if (jwt.clockToleranceSec !== undefined) claims.clockToleranceSec = jwt.clockToleranceSec as number;
    if (jwt.publicKeyFile !== undefined) {
      const publicKey = read(jwt.publicKeyFile as string, 'jwt.publicKeyFile');
      if (publicKey !== undefined) options.jwt = { ...claims, publicKey };
    } else {
      const text = read(jwt.jwksFile as string, 'jwt.jwksFile');
      const jwks = text === undefined ? undefined : parseJwks(text, errors);
      if (jwks !== undefined) options.jwt = { ...claims, jwks };
    }
  }
  if (config.dashboard !== undefined) {
    const loaded = loadDashboardConfig(resolve(baseDir, config.dashboard as string));
    if (loaded.ok) options.dashboard = loaded.value;
    else errors.push(`dashboard: ${loaded.error}`);
  }
  if (config.dashboards !== undefined) {
    const dashboards = resolve(baseDir, config.dashboards as string);
    if (isDirectory(dashboards)) options.dashboards = dashboards;
    else errors.push(`dashboards: ${dashboards} is not a directory`);
  }
  if (config.staticDir !== undefined) {
    const staticDir = resolve(baseDir, config.staticDir as string);
    if (isDirectory(staticDir)) options.staticDir = staticDir;
    else errors.push(`staticDir: ${staticDir} is not a directory`);
  }
  const tls = config.tls as Fields | undefined;
  if (tls) {
    const cert = read(tls.certFile as string, 'tls.certFile');
    const key = read(tls.keyFile as string, 'tls.keyFile');
    if (cert !== undefined && key !== undefined) options.tls = { cert, key };
  }
  return options;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function parseJwks(text: string, errors: string[]): JsonWebKeySet | undefined {
  try {
    const jwks: unknown = JSON.parse(text);
    if (typeof jwks === 'object' && jwks !== null && Array.isArray((jwks as Fields).keys))
      return jwks as JsonWebKeySet;
    errors.push('jwt.jwksFile: expected a JSON Web Key Set ({"keys": [...]})');
  } catch {
    errors.push('jwt.jwksFile: the file is not valid JSON');
  }
  return undefined;
}
