import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import request from 'supertest';
import type { Graph } from '../../src/shared/neo4j';
import { testApp, token, type TestApi } from '../support/api';
import { ARTIFACTS, browse, type Browsing } from '../support/browser';
import { attackData, freshGraph } from '../support/graph';
import { scratchDir } from '../support/scratch';

// The web console as an analyst uses it, in Debian's headless Chromium, on Enterprise 18.1: sign
// in with a token, the matrix with its 14 tactics coloured by the tenant's mappings (each cell's
// count is the API's), a technique's detail; and an accessibility check. Screenshots of each view
// go to test-artifacts/ (README links them).
const ROOT = path.resolve(__dirname, '../..');

let graph: Graph;
let api: TestApi;
let browsing: Browsing;
let base: string;
let browser: Browser;
let analyst: string;

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist/console/index.html')))
    throw new Error('the console is not built: npm run build');
  graph = await freshGraph();
  api = await testApp();
  await api.importer.importBytes(attackData('enterprise-attack-18.1.json.gz'));
  analyst = await token({ sub: 'alice', tenant: 'acme', roles: ['analyst'] });
  const now = new Date().toISOString();
  const items = [
    ...Array.from({ length: 6 }, (_, i) => ({ alert_id: `C-${i}`, technique: 'T1059.001' })),
    ...Array.from({ length: 3 }, (_, i) => ({ alert_id: `C-${i}`, technique: 'T1566.001' })),
    { alert_id: 'C-9', technique: 'T1486' },
  ].map((x) => ({ ...x, occurred_at: now }));
  // An incident along a kill chain: phishing, PowerShell, credential dumping, encryption.
  const incident = [
    ['T1566.001', '2026-11-02T08:00:00Z'],
    ['T1059.001', '2026-11-02T08:05:00Z'],
    ['T1003.001', '2026-11-02T09:00:00Z'],
    ['T1486', '2026-11-02T11:00:00Z'],
  ].map(([technique, at], i) => ({
    alert_id: `INC-A${i}`,
    incident_id: 'INC-1',
    technique,
    occurred_at: at,
  }));
  await request(api.app)
    .post('/api/v1/mitre/alert-mappings/bulk/')
    .set('authorization', `Bearer ${analyst}`)
    .send({ items: incident })
    .expect(201);
  const made = await request(api.app)
    .post('/api/v1/mitre/alert-mappings/bulk/')
    .set('authorization', `Bearer ${analyst}`)
    .send({ items });
  expect(made.status).toBe(201);
  // Another tenant's mappings must not colour acme's matrix.
  await request(api.app)
    .post('/api/v1/mitre/alert-mappings/')
    .set(
      'authorization',
      `Bearer ${await token({ sub: 'bob', tenant: 'globex', roles: ['analyst'] })}`,
    )
    .send({ alert_id: 'G-1', technique: 'T1003.001' })
    .expect(201);
  browsing = await browse(api.app);
  ({ base, browser } = browsing);
});
afterAll(async () => {
  await browsing?.close();
  await api?.close();
  await graph?.close();
});

async function signedIn(as = analyst): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1600, height: 1000 });
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
  });
  // axe-core is injected as an inline script, which the console's CSP refuses.
  await page.setBypassCSP(true);
  await page.goto(`${base}/console`, { waitUntil: 'networkidle0' });
  expect(page.url()).toBe(`${base}/console/`);
  await page.waitForSelector('textarea#token');
  await page.screenshot({ path: path.join(ARTIFACTS, 'console-sign-in.png') });
  await page.type('textarea#token', as);
  await page.click('form.signin button[type=submit]');
  await page.waitForSelector('section.tactic', { timeout: 30_000 });
  return { page, problems };
}

/** axe-core's serious and critical violations on what the page shows now. */
async function accessibilityProblems(page: Page) {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }>;
        };
      }
    ).axe;
    const r = await axe.run();
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: (v.nodes as Array<{ target: string[] }>).map((n) => n.target.join(' ')),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Waits for `selector`; when it never shows, fails with what the page reported instead. */
async function shown(page: Page, selector: string, problems: string[], timeout: number) {
  await page.waitForSelector(selector, { timeout }).catch(() => {
    throw new Error(`${selector} did not show: ${problems.join('\n')}`);
  });
}

/** The element that has the keyboard's focus: its technique id, or its id. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const e = (
      globalThis as unknown as {
        document: {
          activeElement: {
            getAttribute(n: string): string | null;
            id: string;
            tagName: string;
          } | null;
        };
      }
    ).document.activeElement;
    return e?.getAttribute('data-technique') ?? e?.id ?? e?.tagName ?? null;
  });

it('serves hashed assets for a year and the page for revalidation, under its own CSP', async () => {
  const page = await request(api.app).get('/console/').expect(200);
  expect(page.headers['cache-control']).toBe('no-cache');
  expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
  const script = /src="assets\/(main-[A-Z0-9]+\.js)"/.exec(page.text)?.[1];
  expect(script).toBeDefined();
  const asset = await request(api.app).get(`/console/assets/${script}`).expect(200);
  expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  expect(asset.text).toBe(
    readFileSync(path.join(ROOT, 'dist/console/assets', script as string), 'utf8'),
  );
  await request(api.app).get('/console/assets/nothing-here.js').expect(404);
  // No CDN: nothing the page loads comes from elsewhere.
  expect(page.text).not.toMatch(/https?:\/\//);
});

it("signs in and draws the 14 Enterprise tactics coloured by the tenant's mappings, as the API counts them", async () => {
  const { page, problems } = await signedIn();
  const tactics = await page.$$eval('section.tactic', (s) =>
    s.map((e) => e.getAttribute('data-tactic')),
  );
  expect(tactics).toHaveLength(14);
  expect(tactics[0]).toBe('TA0043');
  const from = await page.$eval('#from', (e) => (e as unknown as { value: string }).value);
  const to = await page.$eval('#to', (e) => (e as unknown as { value: string }).value);
  const breakdown = await request(api.app)
    .get(
      `/api/v1/mitre/dashboard/breakdown/?by=sub-technique&entity=alert&top=1000&from=${encodeURIComponent(`${from}T00:00:00Z`)}&to=${encodeURIComponent(`${to}T00:00:00Z`)}`,
    )
    .set('authorization', `Bearer ${analyst}`)
    .expect(200);
  const expected = Object.fromEntries(
    (breakdown.body.top as Array<{ key: string; mappings: number }>).map((t) => [
      t.key,
      t.mappings,
    ]),
  );
  expect(expected).toEqual({ 'T1059.001': 6, 'T1566.001': 3, T1486: 1 });
  const shown = await page.$$eval('.cell[data-count]:not([data-count="0"])', (cells) =>
    cells.map((c) => [c.getAttribute('data-technique'), Number(c.getAttribute('data-count'))]),
  );
  expect(Object.fromEntries(shown)).toEqual(expected);
  // The hottest cell has the darkest colour; a sub-technique opens under its parent.
  expect(await page.$eval('.cell[data-technique="T1059.001"]', (c) => c.className)).toMatch(/h5/);
  await page.click('section[data-tactic="TA0002"] button.toggle[aria-controls$="T1059"]');
  expect(
    await page.$eval(
      'section[data-tactic="TA0002"] .cell[data-technique="T1059.001"]',
      (c) => (c as unknown as { offsetParent: unknown }).offsetParent !== null,
    ),
  ).toBe(true);
  await page.screenshot({ path: path.join(ARTIFACTS, 'console-matrix.png'), fullPage: false });
  // Search dims what does not match.
  await page.type('#search', 'powershell');
  const lit = await page.$$eval('.cell:not(.dim)', (c) =>
    c.map((e) => e.getAttribute('data-technique')),
  );
  expect(lit).toContain('T1059.001');
  expect(lit.length).toBeLessThan(5);
  expect(problems).toEqual([]);
  await page.close();
});

it("opens a technique with its detail and the tenant's own mappings of it", async () => {
  const { page, problems } = await signedIn();
  await page.click('section[data-tactic="TA0040"] .cell[data-technique="T1486"]');
  await shown(page, 'dialog#technique[open] h2', problems, 5_000);
  expect(await page.$eval('dialog#technique h2', (e) => e.textContent)).toBe(
    'T1486 Data Encrypted for Impact',
  );
  const text = await page.$eval('dialog#technique', (e) => e.textContent ?? '');
  expect(text).toMatch(/Mitigations \(\d+\)/);
  expect(text).toMatch(/Your alert mappings \(2\)/);
  expect(text).toContain('C-9');
  // ATT&CK's markdown is drawn: links to attack.mitre.org, no raw link or citation syntax.
  const links = await page.$$eval('dialog#technique .attack-text a', (a) =>
    a.map((e) => e.getAttribute('href')),
  );
  expect(links.length).toBeGreaterThan(0);
  for (const href of links) expect(href).toMatch(/^https:\/\//);
  const prose = await page.$eval('dialog#technique .attack-text', (e) => e.textContent ?? '');
  expect(prose).not.toMatch(/\]\(https?:|\(Citation:/);
  expect(await accessibilityProblems(page)).toEqual([]);
  await page.screenshot({ path: path.join(ARTIFACTS, 'console-technique.png') });
  // Escape closes it and the keyboard is back on the matrix.
  await page.keyboard.press('Escape');
  expect(
    await page.$eval('dialog#technique', (e) => (e as unknown as { open: boolean }).open),
  ).toBe(false);
  await page.close();
});

it('has no serious or critical accessibility violations (axe-core) on the sign-in page and the matrix', async () => {
  const page = await browser.newPage();
  await page.setBypassCSP(true);
  await page.goto(`${base}/console/`, { waitUntil: 'networkidle0' });
  await page.waitForSelector('textarea#token');
  expect(await accessibilityProblems(page)).toEqual([]);
  await page.close();
  const signed = await signedIn();
  expect(await accessibilityProblems(signed.page)).toEqual([]);
  await signed.page.close();
});

it('works from the keyboard: one tab stop for the matrix, arrows, + and −, Enter and Escape', async () => {
  const { page, problems } = await signedIn();
  // Tab from the search box lands on the matrix's first technique (one stop, not 600).
  await page.focus('#search');
  await page.keyboard.press('Tab');
  const first = await page.$eval('section.tactic .cell', (c) => c.getAttribute('data-technique'));
  expect(await focused(page)).toBe(first);
  expect(await page.$$eval('#matrix [tabindex="0"]', (c) => c.length)).toBe(1);
  // Right to Resource Development, Left back; Down moves within the column.
  await page.keyboard.press('ArrowRight');
  const second = await page.$eval('section.tactic:nth-of-type(2) .cell', (c) =>
    c.getAttribute('data-technique'),
  );
  expect(await focused(page)).toBe(second);
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowDown');
  const below = await page.$$eval('section.tactic:first-of-type .row > .cell', (c) =>
    c.map((e) => e.getAttribute('data-technique')),
  );
  expect(await focused(page)).toBe(below[1]);
  // To Execution's T1059, + shows its sub-techniques, Down reaches the first, − goes back.
  await page.$eval('section[data-tactic="TA0002"] .row > .cell[data-technique="T1059"]', (c) =>
    (c as unknown as { focus(): void }).focus(),
  );
  await page.keyboard.press('+');
  expect(
    await page.$eval('section[data-tactic="TA0002"] .toggle[aria-controls$="T1059"]', (b) =>
      b.getAttribute('aria-expanded'),
    ),
  ).toBe('true');
  await page.keyboard.press('ArrowDown');
  expect(await focused(page)).toBe('T1059.001');
  await page.keyboard.press('-');
  expect(await focused(page)).toBe('T1059');
  expect(
    await page.$eval('section[data-tactic="TA0002"] .toggle[aria-controls$="T1059"]', (b) =>
      b.getAttribute('aria-expanded'),
    ),
  ).toBe('false');
  // Enter opens the technique; Escape closes it and gives the focus back to the cell.
  await page.keyboard.press('Enter');
  await page.waitForSelector('dialog#technique[open] h2');
  expect(await page.$eval('dialog#technique h2', (e) => e.textContent)).toBe(
    'T1059 Command and Scripting Interpreter',
  );
  await page.keyboard.press('Escape');
  expect(await focused(page)).toBe('T1059');
  expect(problems).toEqual([]);
  await page.close();
});

it('signs a refused token out with the reason', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/console/`, { waitUntil: 'networkidle0' });
  await page.type('textarea#token', 'not-a-token');
  await page.click('form.signin button[type=submit]');
  await page.waitForSelector('form.signin [role=alert]');
  expect(await page.$eval('form.signin [role=alert]', (e) => e.textContent)).toMatch(/refused/);
  await page.close();
});

it("shows an incident's kill chain, next steps and paths, and downloads its Navigator layer", async () => {
  const { page, problems } = await signedIn();
  const downloads = scratchDir('ttpgraph-console-dl-');
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
  await page.click('nav a[href="#incident"]');
  await page.waitForSelector('#incident-id');
  await page.type('#incident-id', 'INC-1');
  await page.click('form.controls button[type=submit]');
  await shown(page, '#kill-chain', problems, 10_000);
  const seen = await page.$$eval('#kill-chain li.seen', (l) =>
    l.map((e) => e.getAttribute('data-tactic')),
  );
  expect(seen).toEqual(['TA0001', 'TA0002', 'TA0006', 'TA0040']);
  expect(await page.$$eval('#kill-chain li.gap', (l) => l.length)).toBeGreaterThan(0);
  expect(await page.$$eval('#next-steps tbody tr', (r) => r.length)).toBeGreaterThan(0);
  // A suggestion's evidence names what the API gives for it (it once printed "observed: ;").
  const next = await request(api.app)
    .get('/api/v1/mitre/incidents/INC-1/next-steps/?top_k=10')
    .set('authorization', `Bearer ${analyst}`)
    .expect(200);
  const best = next.body.suggestions[0] as {
    evidence: { observed: Array<{ technique: string }>; actors: Array<{ name: string }> };
  };
  const evidence = await page.$eval('#next-steps tbody tr td:nth-child(3)', (e) => e.textContent);
  expect(best.evidence.observed.length).toBeGreaterThan(0);
  expect(evidence).toContain(`after: ${best.evidence.observed[0]!.technique}`);
  expect(evidence).toContain(`actors: ${best.evidence.actors[0]!.name}`);
  expect(await page.$$eval('#paths table', (t) => t.length)).toBeGreaterThan(0);
  expect(await accessibilityProblems(page)).toEqual([]);
  await page.screenshot({ path: path.join(ARTIFACTS, 'console-incident.png'), fullPage: true });
  await page.click('#download-layer');
  const file = path.join(downloads, 'INC-1-layer.json');
  for (const until = Date.now() + 10_000; !existsSync(file) && Date.now() < until;)
    await new Promise((r) => setTimeout(r, 100));
  const layer = JSON.parse(readFileSync(file, 'utf8')) as {
    versions: { layer: string };
    domain: string;
    techniques: Array<{ techniqueID: string }>;
  };
  expect(layer.versions.layer).toBe('4.5');
  expect(layer.domain).toBe('enterprise-attack');
  expect(layer.techniques.map((t) => t.techniqueID)).toEqual(
    expect.arrayContaining(['T1566.001', 'T1059.001', 'T1003.001', 'T1486']),
  );
  expect(problems).toEqual([]);
  await page.close();
});

it("draws the tenant's dashboard as the API counts it", async () => {
  const { page, problems } = await signedIn();
  await page.click('nav a[href="#dashboard"]');
  await shown(page, '#by-tactic tbody tr', problems, 10_000);
  const counted = await request(api.app)
    .get('/api/v1/mitre/dashboard/breakdown/?by=tactic&entity=alert&bucket=week&top=20')
    .set('authorization', `Bearer ${analyst}`)
    .expect(200);
  const rows = await page.$$eval('#by-tactic tbody tr', (r) =>
    r.map((e) => [e.getAttribute('data-key'), Number(e.querySelector('.bar')?.textContent)]),
  );
  expect(rows).toEqual(
    (counted.body.top as Array<{ key: string; entities: number }>).map((t) => [t.key, t.entities]),
  );
  expect(rows.length).toBeGreaterThan(0);
  // The chart draws the API's counts per week: the top technique's segment in each column.
  const byTechnique = await request(api.app)
    .get('/api/v1/mitre/dashboard/breakdown/?by=technique&entity=alert&bucket=week&top=15')
    .set('authorization', `Bearer ${analyst}`)
    .expect(200);
  const buckets = byTechnique.body.buckets as Array<{
    counts: Array<{ key: string; entities: number }>;
  }>;
  const topKey = (byTechnique.body.top as Array<{ key: string }>)[0]?.key;
  const drawn = await page.$$eval('#over-time-chart rect.s0 title', (t) =>
    t.map((e) => Number(/: (\d+) \(/.exec(e.textContent ?? '')?.[1])),
  );
  expect(drawn).toEqual(buckets.map((b) => b.counts.find((c) => c.key === topKey)?.entities ?? 0));
  // Its table holds the same numbers (the over-time table used to print "[object Object]").
  const tableText = await page.$eval('#over-time-table', (t) => t.textContent ?? '');
  expect(tableText).not.toContain('object');
  expect(drawn.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  expect(await page.$eval('#over-time-chart', (e) => e.getAttribute('role'))).toBe('img');
  // Tactics over time: per bucket, the segments add up to the tactic's counts in that bucket.
  const byTactic = (
    counted.body.buckets as Array<{ counts: Array<{ entities: number }>; other: number }>
  ).map((b) => b.counts.reduce((n, c) => n + c.entities, b.other));
  const stacked = await page.$$eval('#tactics-over-time-chart g:has(rect)', (cols) =>
    cols.map((g) =>
      [...g.querySelectorAll('rect title')].reduce(
        (n, t) => n + Number(/: (\d+) \(/.exec(t.textContent ?? '')?.[1]),
        0,
      ),
    ),
  );
  expect(stacked).toEqual(byTactic);
  expect(await accessibilityProblems(page)).toEqual([]);
  await page.screenshot({ path: path.join(ARTIFACTS, 'console-dashboard.png'), fullPage: true });
  expect(problems).toEqual([]);
  await page.close();
});

it("shows another tenant's incident as not found", async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/console/`, { waitUntil: 'networkidle0' });
  await page.type(
    'textarea#token',
    await token({ sub: 'bob', tenant: 'globex', roles: ['viewer'] }),
  );
  await page.click('form.signin button[type=submit]');
  await page.waitForSelector('section.tactic');
  await page.goto(`${base}/console/#incident/INC-1`);
  await page.waitForSelector('main [role=alert]');
  expect(await page.$eval('main [role=alert]', (e) => e.textContent)).toMatch(/INC-1/);
  await page.close();
});

it('shows write controls only to those the API lets write: an analyst maps a technique, a viewer cannot', async () => {
  // Another tenant than the one the other tests count, so that their counts stay as they are.
  const initech = await token({ sub: 'ivan', tenant: 'initech', roles: ['analyst'] });
  const { page, problems } = await signedIn(initech);
  await page.click('section[data-tactic="TA0040"] .cell[data-technique="T1486"]');
  await page.waitForSelector('dialog#technique[open] #map-form');
  expect(await page.$eval('dialog#technique', (e) => e.textContent ?? '')).toMatch(
    /Your alert mappings \(0\)/,
  );
  await page.type('#map-alert', 'IT-7');
  await page.click('#map-form button[type=submit]');
  await page.waitForFunction(
    () =>
      /Your alert mappings \(1\)/.test(
        (
          globalThis as unknown as {
            document: { querySelector(s: string): { textContent: string } | null };
          }
        ).document.querySelector('dialog#technique')?.textContent ?? '',
      ),
    { timeout: 10_000 },
  );
  const stored = await request(api.app)
    .get('/api/v1/mitre/alert-mappings/?technique=T1486')
    .set('authorization', `Bearer ${initech}`)
    .expect(200);
  expect(stored.body.results).toEqual([
    expect.objectContaining({
      alert_id: 'IT-7',
      technique: expect.objectContaining({ id: 'T1486' }),
      confidence: 80,
      source: 'manual',
      created_by: 'ivan',
    }),
  ]);
  expect(problems).toEqual([]);
  await page.close();

  const viewing = await signedIn(
    await token({ sub: 'vera', tenant: 'initech', roles: ['viewer'] }),
  );
  await viewing.page.click('section[data-tactic="TA0040"] .cell[data-technique="T1486"]');
  await viewing.page.waitForSelector('dialog#technique[open] h2');
  expect(await viewing.page.$eval('dialog#technique', (e) => e.textContent ?? '')).toMatch(
    /Your alert mappings \(1\)/,
  );
  expect(await viewing.page.$('#map-form')).toBeNull();
  expect(viewing.problems).toEqual([]);
  await viewing.page.close();
});
