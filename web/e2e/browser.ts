// Debian's Chromium driven by playwright-core (never a browser download), with the flags this platform's closed
// network needs, a fresh profile per run, console errors collected, and screenshots at two widths.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const BASE_URL = required('E2E_BASE_URL'); // the app, e.g. http://127.0.0.1:PORT/app/
export const API_URL = new URL('/', BASE_URL).toString().replace(/\/$/, '');
export const API_KEY = process.env.E2E_API_KEY ?? 'cdk_e2e-dashboard-key-0123456789abcdefghij';
const SCREENSHOTS = process.env.E2E_SCREENSHOTS ?? join(import.meta.dirname, '..', 'e2e-screenshots');
export const WIDTHS = [1280, 375] as const;
const HEIGHT = 860;

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set: run the browser suite with \`make web-e2e\`, which starts the stack`);
  }
  return value;
}

/**
 * Browser messages that are the API answering as the test wants (a 422 for an invalid template, a 401 for a wrong
 * key): Chromium logs every non-2xx fetch as a console error. Anything else in the console fails the suite.
 */
const EXPECTED = /Failed to load resource: the server responded with a status of (401|422)/;

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions seen so far (expected API refusals left out). */
  errors: string[];
  close: () => Promise<void>;
}

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium)`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'dispatch-web-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: WIDTHS[0], height: HEIGHT },
    locale: 'en-GB',
    timezoneId: 'Africa/Nairobi',
  });
  const errors: string[] = [];
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error' && !EXPECTED.test(message.text())) errors.push(message.text());
  });
  page.on('pageerror', (error) => {
    errors.push(`uncaught: ${error.message}`);
  });
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * One browser for the spec file: launched before its tests, closed after them, and the suite fails when the console
 * showed an error. Returns the page to drive (call it inside a test).
 */
export function browserForThisFile(): () => Page {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    if (browser === undefined) return;
    const errors = browser.errors;
    await browser.close();
    expect(errors, 'the browser console had errors').toEqual([]);
  });
  return () => {
    if (browser === undefined) throw new Error('the browser is launched in beforeAll');
    return browser.page;
  };
}

/** Full-page screenshots of what the page shows now, at each width, into the git-ignored folder. */
export async function shoot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: HEIGHT });
    await page.evaluate(() => document.fonts.ready);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true, animations: 'disabled' });
  }
  await page.setViewportSize({ width: WIDTHS[0], height: HEIGHT });
}

export async function signIn(page: Page, key: string = API_KEY): Promise<void> {
  await page.goto(BASE_URL);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The API answered directly (not through the browser), for facts a test checks the screens against. */
export async function apiGet(path: string): Promise<unknown> {
  const response = await fetch(`${API_URL}${path}`, { headers: { Authorization: `Bearer ${API_KEY}` } });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Wait until the locator shows. */
export async function visible(locator: Locator, timeout = 15_000): Promise<void> {
  await locator.waitFor({ state: 'visible', timeout });
}

/** The locator's text, trimmed ('' until it exists). */
export async function text(locator: Locator): Promise<string> {
  if ((await locator.count()) === 0) return '';
  return ((await locator.first().textContent()) ?? '').trim();
}
