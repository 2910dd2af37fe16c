import type { ChangeReport } from '../attack/import-service';
import { loadQueries } from '../shared/cypher';
import { NotFoundError } from '../shared/errors';
import type { Graph } from '../shared/neo4j';

const QUERIES = ['releases/list', 'releases/changes'] as const;

interface StoredRelease {
  id: string;
  domain: string;
  version: string;
  previous_version: string | null;
  applied_at: string;
  current: boolean;
  report: string | null;
  [k: string]: unknown;
}

/** The releases applied to the graph and their changelogs (MITRE's release-note categories). */
export class ReleaseService {
  private readonly q = loadQueries(QUERIES);

  constructor(private readonly graph: Graph) {}

  async list(f: { id?: string | null; domains: string[] | null; limit: number; offset: number }) {
    const [row] = await this.graph.read<{ count: number; releases: StoredRelease[] }>(
      this.q['releases/list'],
      { id: f.id ?? null, domains: f.domains, limit: f.limit, offset: f.offset },
    );
    return {
      count: row?.count ?? 0,
      results: (row?.releases ?? []).map(({ report, ...r }) => {
        const parsed = report ? (JSON.parse(report) as ChangeReport) : null;
        // Releases recorded before changelogs existed have none: the fields are left out.
        return {
          ...r,
          ...(parsed?.changelog ? { changelog: parsed.changelog } : {}),
          ...(parsed?.totals ? { totals: parsed.totals } : {}),
        };
      }),
    };
  }

  async get(id: string) {
    const { results } = await this.list({ id, domains: null, limit: 1, offset: 0 });
    const release = results[0];
    if (!release) throw new NotFoundError(`no release ${id}`);
    return release;
  }

  async changes(
    id: string,
    f: { category: string | null; type: string | null; limit: number; offset: number },
  ) {
    const [row] = await this.graph.read<{
      found: boolean;
      count: number;
      changes: Array<Record<string, unknown>>;
    }>(this.q['releases/changes'], { id, ...f });
    if (!row?.found) throw new NotFoundError(`no release ${id}`);
    return { count: row.count, results: row.changes };
  }
}
