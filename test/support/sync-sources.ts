import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TAXII_MEDIA_TYPE } from '../../src/sync/taxii-client';

/** How a path misbehaves: the faults a sync must survive. */
export type Fault =
  | { kind: 'hang' }
  | { kind: 'status'; status: number; retryAfter?: string; times?: number }
  | { kind: 'cut' }
  | { kind: 'body'; body: Buffer };

export interface TaxiiObject {
  object: Record<string, unknown>;
  dateAdded: string;
}

export interface TaxiiCollection {
  id: string;
  title: string;
  objects: TaxiiObject[];
  /** Answer every page with the same next token. */
  loopNext?: boolean;
  /** Answer 500 from this page (0-based) on. */
  failFromPage?: number;
}

/**
 * A local ATT&CK source for the sync tests: static files with ETags (index.json and bundles) and a
 * small TAXII 2.1 server (discovery, collections, manifest, objects with limit/next paging), each
 * path able to fail in the ways a real source does. Every request is logged.
 */
export class AttackSource {
  readonly files = new Map<string, Buffer>();
  readonly faults = new Map<string, Fault>();
  readonly collections = new Map<string, TaxiiCollection>();
  readonly requests: Array<{ path: string; headers: http.IncomingHttpHeaders; status: number }> =
    [];
  private server!: http.Server;
  base = '';

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  /** index.json in attack-stix-data's shape, listing the given bundles (newest anywhere). */
  setIndex(
    entries: Array<{
      domain: string;
      collection: string;
      version: string;
      path: string;
      modified: string;
    }>,
  ): void {
    const byDomain = new Map<string, typeof entries>();
    for (const e of entries) byDomain.set(e.domain, [...(byDomain.get(e.domain) ?? []), e]);
    const index = {
      name: 'MITRE ATT&CK',
      description: 'test index',
      collections: [...byDomain.entries()].map(([domain, es]) => ({
        id: es[0]?.collection,
        name: domain,
        created: '2018-01-17T12:56:55.080Z',
        versions: es.map((e) => ({
          version: e.version,
          url: `${this.base}${e.path}`,
          modified: e.modified,
        })),
      })),
    };
    this.files.set('/index.json', Buffer.from(JSON.stringify(index)));
  }

  count(path: string): number {
    return this.requests.filter((r) => r.path.split('?')[0] === path).length;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.base);
    const log = (status: number) =>
      this.requests.push({ path: req.url ?? '', headers: req.headers, status });
    const fault = this.faults.get(url.pathname);
    if (fault && this.applyFault(fault, url.pathname, res, log)) return;
    if (url.pathname.startsWith('/taxii2/') || url.pathname.startsWith('/api/v21/')) {
      this.taxii(req, url, res, log);
      return;
    }
    const body = this.files.get(url.pathname);
    if (!body) {
      log(404);
      res.writeHead(404).end('not found');
      return;
    }
    const etag = `"${createHash('sha1').update(body).digest('hex')}"`;
    if (req.headers['if-none-match'] === etag) {
      log(304);
      res.writeHead(304, { etag }).end();
      return;
    }
    log(200);
    res.writeHead(200, { etag, 'content-length': body.length, 'content-type': 'application/json' });
    res.end(body);
  }

  /** True when the fault answered the request. */
  private applyFault(
    fault: Fault,
    path: string,
    res: http.ServerResponse,
    log: (s: number) => void,
  ): boolean {
    switch (fault.kind) {
      case 'hang':
        log(0);
        return true;
      case 'status': {
        if (fault.times !== undefined) {
          if (fault.times <= 0) return false;
          fault.times--;
        }
        log(fault.status);
        const headers: Record<string, string> = { 'content-type': 'text/plain' };
        if (fault.retryAfter) headers['retry-after'] = fault.retryAfter;
        res.writeHead(fault.status, headers).end(`status ${fault.status}`);
        return true;
      }
      case 'cut': {
        const body = this.files.get(path) ?? Buffer.alloc(1000, 32);
        log(200);
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
        return true;
      }
      case 'body':
        log(200);
        res.writeHead(200, { 'content-length': fault.body.length }).end(fault.body);
        return true;
    }
  }

  private taxii(
    req: http.IncomingMessage,
    url: URL,
    res: http.ServerResponse,
    log: (s: number) => void,
  ): void {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      log(status);
      res
        .writeHead(status, { 'content-type': TAXII_MEDIA_TYPE, ...headers })
        .end(JSON.stringify(body));
    };
    // TAXII 2.1 §1.6.8.1: a client that does not accept TAXII 2.1 gets 406.
    if (!String(req.headers.accept ?? '').includes('application/taxii+json')) {
      send(406, { title: 'Not Acceptable' });
      return;
    }
    const root = `${this.base}/api/v21/`;
    if (url.pathname === '/taxii2/') {
      send(200, { title: 'test TAXII', default: root, api_roots: [root] });
      return;
    }
    if (url.pathname === '/api/v21/') {
      send(200, {
        title: 'ATT&CK',
        versions: ['application/taxii+json;version=2.1'],
        max_content_length: 1e9,
      });
      return;
    }
    if (url.pathname === '/api/v21/collections/') {
      send(200, {
        collections: [...this.collections.values()].map((c) => ({
          id: c.id,
          title: c.title,
          can_read: true,
          can_write: false,
        })),
      });
      return;
    }
    const m = /^\/api\/v21\/collections\/([^/]+)\/(objects|manifest)\/$/.exec(url.pathname);
    const c = m ? this.collections.get(m[1] as string) : undefined;
    if (!m || !c) {
      send(404, { title: 'Not Found' });
      return;
    }
    const after = url.searchParams.get('added_after');
    const items = c.objects
      .filter((o) => !after || o.dateAdded > after)
      .sort((a, b) => a.dateAdded.localeCompare(b.dateAdded));
    const limit = Number(url.searchParams.get('limit') ?? 100);
    const offset = Number(url.searchParams.get('next') ?? 0);
    const page = items.slice(offset, offset + limit);
    const pageNo = Math.floor(offset / limit);
    if (c.failFromPage !== undefined && pageNo >= c.failFromPage) {
      send(500, { title: 'Internal Server Error' });
      return;
    }
    const more = offset + limit < items.length;
    const headers: Record<string, string> = {};
    if (page.length > 0) {
      headers['x-taxii-date-added-first'] = (page[0] as TaxiiObject).dateAdded;
      headers['x-taxii-date-added-last'] = (page[page.length - 1] as TaxiiObject).dateAdded;
    }
    const next = c.loopNext ? String(limit) : String(offset + limit);
    if (m[2] === 'manifest') {
      send(
        200,
        {
          more,
          ...(more ? { next } : {}),
          objects: page.map((o) => ({
            id: o.object.id,
            date_added: o.dateAdded,
            version: o.object.modified,
          })),
        },
        headers,
      );
      return;
    }
    send(200, { more, ...(more ? { next } : {}), objects: page.map((o) => o.object) }, headers);
  }
}
