import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';
import { appSuite, superuser } from '../support/api';
import { Contract } from '../support/contract';

const contract = new Contract();

const ROOT = path.resolve(__dirname, '../..');
const spec = parse(readFileSync(path.join(ROOT, 'openapi.yaml'), 'utf8')) as {
  paths: Record<string, Record<string, { operationId: string }>>;
};

describe('openapi.yaml', () => {
  it('passes the Redocly linter with its recommended rules', async () => {
    const out = await new Promise<{ code: number; text: string }>((resolve) =>
      execFile(
        path.join(ROOT, 'node_modules/.bin/redocly'),
        ['lint', 'openapi.yaml', '--format=summary'],
        { cwd: ROOT },
        (err, stdout, stderr) =>
          resolve({
            code: err ? ((err as { code?: number }).code ?? 1) : 0,
            text: stdout + stderr,
          }),
      ),
    );
    expect(out.text).toMatch(/Your API description is valid/);
    expect(out.text).not.toMatch(/^(warning|error)\s/m);
    expect(out.code).toBe(0);
  });

  it("reports no errors under Spectral's spectral:oas ruleset", async () => {
    const out = await new Promise<{ code: number; text: string }>((resolve) =>
      execFile(
        path.join(ROOT, 'node_modules/.bin/spectral'),
        ['lint', 'openapi.yaml', '--fail-severity=error', '--format=text'],
        { cwd: ROOT },
        (err, stdout, stderr) =>
          resolve({
            code: err ? ((err as { code?: number }).code ?? 1) : 0,
            text: stdout + stderr,
          }),
      ),
    );
    expect(out.text).not.toMatch(/\berror\b/);
    expect(out.code).toBe(0);
  });

  it('gives every operation a unique operationId', () => {
    const ids = Object.values(spec.paths).flatMap((ops) =>
      Object.values(ops).map((o) => o.operationId),
    );
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('routes and contract agree', () => {
  const suite = appSuite();

  it('serves every operation of the contract', async () => {
    const auth = `Bearer ${await superuser()}`;
    for (const [p, ops] of Object.entries(spec.paths)) {
      for (const method of Object.keys(ops) as Array<'get' | 'post'>) {
        const url = p.replace(
          '{id}',
          p.includes('relationships')
            ? 'relationship--00000000-0000-4000-8000-000000000000'
            : 'T1059',
        );
        const req = request(suite.api.app)[method](url).set('Authorization', auth);
        const r =
          method === 'post' ? await req.send({ url: 'http://127.0.0.1:1/none.json' }) : await req;
        // A missing handler would answer "no route"; anything else means the route exists.
        expect(`${method} ${p} ${r.body?.detail ?? ''}`).not.toMatch(/no route for/);
        // The empty graph is not ready; POST sync/ has no scheduler in the test app.
        // ATT&CK routes and mapping creates say that nothing is loaded yet.
        const expectedFailure =
          { '/readyz': 503, '/api/v1/mitre/sync/': 501 }[p] ??
          (r.body?.type === 'https://ttpgraph.dev/problems/not-loaded' ? 503 : undefined);
        if (r.status >= 500)
          expect(`${method} ${p} ${r.status}`).toBe(`${method} ${p} ${expectedFailure}`);
        // And the answer is one the contract documents, status, media type and body.
        expect(contract.check(method, url, r)).toEqual([]);
      }
    }
  });
});
