import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import type { Graph } from '../../src/shared/neo4j';
import { fixtureApp, token, type TestApi } from '../support/api';

// Swagger UI as a person uses it, in Debian's headless Chromium: the page renders under the
// service's Content-Security-Policy, takes a bearer token and runs a request with it.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');

let graph: Graph;
let api: TestApi;
let server: http.Server;
let base: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  }
  ({ graph, api } = await fixtureApp());
  server = http.createServer(api.app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});
afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
  await api?.close();
  await graph?.close();
});

describe('Swagger UI', () => {
  it('renders, authorizes with a bearer token and runs a request', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    await page.goto(`${base}/api/v1/mitre/docs`, { waitUntil: 'networkidle0' });
    expect(page.url()).toBe(`${base}/api/v1/mitre/docs/`);
    await page.waitForSelector('.swagger-ui .info .title', { timeout: 30_000 });
    const title = await page.$eval('.swagger-ui .info .title', (e) => e.textContent ?? '');
    expect(title).toMatch(/ttpgraph ATT&CK API/);

    await page.click('.swagger-ui .btn.authorize');
    await page.waitForSelector('.modal-ux input[type=text], .modal-ux input[type=password]');
    const jwt = await token({ sub: 'victor', tenant: 'acme', roles: ['viewer'] });
    await page.type('.modal-ux input', jwt);
    await page.click('.modal-ux .auth-btn-wrapper .btn.modal-btn.auth');
    await page.click('.modal-ux .btn-done, .modal-ux .close-modal');

    const op = '[id$="-list_tactics"]';
    await page.waitForSelector(op);
    await page.click(`${op} .opblock-summary`);
    await page.waitForSelector(`${op} .try-out__btn`);
    await page.click(`${op} .try-out__btn`);
    await page.click(`${op} .execute`);
    await page.waitForSelector(`${op} .live-responses-table tbody .response-col_status`, {
      timeout: 30_000,
    });
    const status = await page.$eval(
      `${op} .live-responses-table tbody .response-col_status`,
      (e) => e.textContent?.trim() ?? '',
    );
    expect(status).toBe('200');
    const body = await page.$eval(`${op} .live-responses-table .microlight`, (e) => e.textContent);
    expect(JSON.parse(body ?? '{}').count).toBe(3);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'swagger-ui.png'), fullPage: false });
    expect(problems).toEqual([]);
  });
});
