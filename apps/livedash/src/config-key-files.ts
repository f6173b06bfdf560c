import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DashboardConfig } from '@livedash/dashboard-config';
import type { Result } from '@livedash/protocol';
import type { JwtOptions } from '@livedash/server';
import type { ConfigFileOptions } from './config-file.js';
import { loadDashboardConfig } from './dashboard-file.js';

type JsonWebKeySet = NonNullable<JwtOptions['jwks']>;

/**
 * The files an option names — the JWT public key or key set, the TLS certificate and key, the
 * dashboard config, the dashboards folder and the static directory — checked and read once the values
 * themselves are valid. The config file and `livedash serve`'s flags and variables read them with
 * these same functions, so a missing file reads the same from every source, prefixed by where it was
 * named (`jwt.publicKeyFile: cannot read /keys/pub.pem: ENOENT`, `--jwt-public-key: …`).
 */

type Fields = Record<string, unknown>;

/** The text of a key or certificate file. */
export function readNamedFile(path: string, at: string): Result<string, string> {
  try {
    return { ok: true, value: readFileSync(path, 'utf8') };
  } catch (error) {
    return {
      ok: false,
      error: `${at}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    };
  }
}

/** A JSON Web Key Set file. */
export function readJwksFile(path: string, at: string): Result<JsonWebKeySet, string> {
  const text = readNamedFile(path, at);
  if (!text.ok) return text;
  try {
    const jwks: unknown = JSON.parse(text.value);
    if (typeof jwks === 'object' && jwks !== null && Array.isArray((jwks as Fields).keys))
      return { ok: true, value: jwks as JsonWebKeySet };
    return { ok: false, error: `${at}: expected a JSON Web Key Set ({"keys": [...]})` };
  } catch {
    return { ok: false, error: `${at}: ${path} is not valid JSON` };
  }
}

/** A dashboard config file, validated (docs/dashboard.md). */
export function readDashboardFile(path: string, at: string): Result<DashboardConfig, string> {
  const loaded = loadDashboardConfig(path);
  return loaded.ok ? loaded : { ok: false, error: `${at}: ${loaded.error}` };
}

/** A path that must be a directory (the dashboards folder, the static directory). */
export function checkDirectory(path: string, at: string): Result<string, string> {
  let directory = false;
  try {
    directory = statSync(path).isDirectory();
  } catch {}
  return directory ? { ok: true, value: path } : { ok: false, error: `${at}: ${path} is not a directory` };
}

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
 * Reads the files the config names (JWT key or key set, TLS certificate and key, dashboard, folders);
 * relative paths are relative to the config file's directory.
 */
export function readReferencedFiles(config: Fields, baseDir: string, errors: string[]): ConfigFileOptions {
  const take = <T>(result: Result<T, string>): T | undefined => {
    if (result.ok) return result.value;
    errors.push(result.error);
    return undefined;
  };
  const path = (value: unknown) => resolve(baseDir, value as string);
  const options: ConfigFileOptions = {};
  const jwt = config.jwt as Fields | undefined;
  if (jwt) {
    const claims: JwtOptions = {};
    if (jwt.issuer !== undefined) claims.issuer = jwt.issuer as string;
    if (jwt.audience !== undefined) claims.audience = jwt.audience as string;
    if (jwt.clockToleranceSec !== undefined) claims.clockToleranceSec = jwt.clockToleranceSec as number;
    if (jwt.publicKeyFile !== undefined) {
      const publicKey = take(readNamedFile(path(jwt.publicKeyFile), 'jwt.publicKeyFile'));
      if (publicKey !== undefined) options.jwt = { ...claims, publicKey };
    } else {
      const jwks = take(readJwksFile(path(jwt.jwksFile), 'jwt.jwksFile'));
      if (jwks !== undefined) options.jwt = { ...claims, jwks };
    }
  }
  if (config.dashboard !== undefined) {
    const dashboard = take(readDashboardFile(path(config.dashboard), 'dashboard'));
    if (dashboard !== undefined) options.dashboard = dashboard;
  }
  if (config.dashboards !== undefined) {
    const dashboards = take(checkDirectory(path(config.dashboards), 'dashboards'));
    if (dashboards !== undefined) options.dashboards = dashboards;
  }
  if (config.staticDir !== undefined) {
    const staticDir = take(checkDirectory(path(config.staticDir), 'staticDir'));
    if (staticDir !== undefined) options.staticDir = staticDir;
  }
  const tls = config.tls as Fields | undefined;
  if (tls) {
    const cert = take(readNamedFile(path(tls.certFile), 'tls.certFile'));
    const key = take(readNamedFile(path(tls.keyFile), 'tls.keyFile'));
    if (cert !== undefined && key !== undefined) options.tls = { cert, key };
  }
  return options;
}
