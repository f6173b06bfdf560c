import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM_PATH } from '../setup/chromium.js';

/** Screenshots land here (git-ignored), one per test, so a person can look at what the test saw. */
export const ARTIFACTS = new URL('../../artifacts/e2e/', import.meta.url).pathname;

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Every `alert()`/`confirm()` the page tried to open (an XSS would show up here). */
  dialogs: string[];
  /** Uncaught page errors and console errors. */
  errors: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Debian's Chromium with a fresh profile (its own temporary user-data-dir, removed on close), one
 * page at a desktop size, light or dark.
 */
export async function openBrowser(
  options: { colorScheme?: 'light' | 'dark'; width?: number; height?: number } = {},
): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'livedash-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: options.width ?? 1440, height: options.height ?? 1000 },
    colorScheme: options.colorScheme ?? 'light',
    timeout: 60_000,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    context,
    page,
    dialogs,
    errors,
    async screenshot(name) {
      const path = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
