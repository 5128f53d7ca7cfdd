// Headless Chromium (Debian's package) driven by playwright-core, for the dashboard's browser
// tests: `npx playwright install` cannot download browsers here, so the binary is given.
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, args: CHROMIUM_FLAGS, timeout: 60_000 });
}

/** A fresh browser profile at `base`, already signed in with `token` when one is given. */
export async function dashboardContext(browser: Browser, base: string, token?: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, colorScheme: 'light' });
  // Runs in the page (a string: the Node type check knows no `window`).
  if (token) await context.addInitScript(`window.localStorage.setItem('flotilla-token', ${JSON.stringify(token)})`);
  return context;
}
