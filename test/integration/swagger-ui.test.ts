import path from 'node:path';
import type { Graph } from '../../src/shared/neo4j';
import { fixtureApp, token, type TestApi } from '../support/api';
import { ARTIFACTS, browse, type Browsing } from '../support/browser';

// Swagger UI as a person uses it, in Debian's headless Chromium: the page renders under the
// service's Content-Security-Policy, takes a bearer token and runs a request with it.

let graph: Graph;
let api: TestApi;
let browsing: Browsing;

beforeAll(async () => {
  ({ graph, api } = await fixtureApp());
  browsing = await browse(api.app);
});
afterAll(async () => {
  await browsing?.close();
  await api?.close();
  await graph?.close();
});

describe('Swagger UI', () => {
  it('renders, authorizes with a bearer token and runs a request', async () => {
    const { base, browser } = browsing;
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

    await page.screenshot({ path: path.join(ARTIFACTS, 'swagger-ui.png'), fullPage: false });
    expect(problems).toEqual([]);
  });
});
