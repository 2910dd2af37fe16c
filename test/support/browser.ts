import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

/** Where the browser tests leave their screenshots (README links them). */
export const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');

export interface Browsing {
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

/** The app listening on a free port and Debian's Chromium, headless, to drive it (no downloads). */
export async function browse(app: http.RequestListener): Promise<Browsing> {
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    throw new Error(
      `no Chromium at ${chromium}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    browser,
    close: async () => {
      await browser.close();
      await new Promise((r) => server.close(r));
    },
  };
}
