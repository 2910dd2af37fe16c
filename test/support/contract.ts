import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

/**
 * openapi.yaml read as a contract tester reads it, independently of express-openapi-validator:
 * every answer the tests get is checked against the operation's documented statuses, media
 * types and schemas.
 */
export interface Operation {
  method: string;
  template: string;
  operationId: string;
  parameters: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema?: Schema }> };
  responses: Record<string, { content?: Record<string, { schema?: Schema }>; $ref?: string }>;
  security?: unknown[];
}

export interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header';
  required?: boolean;
  schema: Schema;
}

export type Schema = Record<string, unknown>;

interface Spec {
  paths: Record<string, Record<string, Omit<Operation, 'method' | 'template'>>>;
  components: {
    parameters: Record<string, Parameter>;
    responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
    schemas: Record<string, Schema>;
  };
}

const SPEC_FILE = path.resolve(__dirname, '../../openapi.yaml');
const METHODS = ['get', 'post', 'patch', 'put', 'delete'];

export class Contract {
  readonly spec: Spec;
  readonly operations: Operation[];
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor() {
    this.spec = parse(readFileSync(SPEC_FILE, 'utf8')) as Spec;
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema(this.spec as unknown as Schema, 'spec');
    this.operations = Object.entries(this.spec.paths).flatMap(([template, item]) =>
      Object.entries(item)
        .filter(([m]) => METHODS.includes(m))
        .map(([method, op]) => ({
          ...op,
          method,
          template,
          parameters: (op.parameters ?? []).map((p) => this.deref<Parameter>(p)),
        })),
    );
  }

  deref<T>(o: unknown): T {
    const ref = (o as { $ref?: string }).$ref;
    if (!ref) return o as T;
    const [, , kind, name] = ref.split('/');
    return (this.spec.components as unknown as Record<string, Record<string, T>>)[kind as string]?.[
      name as string
    ] as T;
  }

  /** The operation a request reaches, matching templates as the server does (slash optional). */
  find(method: string, url: string): Operation | undefined {
    const p = url.split('?')[0] as string;
    const slashed = p.endsWith('/') || p.endsWith('.yaml') ? p : `${p}/`;
    return this.operations.find((o) => {
      if (o.method !== method.toLowerCase()) return false;
      const re = new RegExp(
        `^${o.template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`,
      );
      return re.test(slashed) || re.test(p);
    });
  }

  /**
   * What is wrong with an answer, by the contract: an undocumented status, a media type the
   * operation does not answer with, or a body its schema refuses. Empty when it conforms.
   */
  check(
    method: string,
    url: string,
    res: { status: number; headers: Record<string, string>; body: unknown; text?: string },
  ): string[] {
    const op = this.find(method, url);
    const type = (res.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    if (!op) {
      // Outside the contract: "no route" or "method not allowed" (a token first, under the API).
      if (![401, 404, 405].includes(res.status))
        return [`${method} ${url}: ${res.status} off-contract`];
      return type === 'application/problem+json' ? [] : [`${method} ${url}: ${type} for a problem`];
    }
    const key = String(res.status);
    const documented = op.responses[key] ?? op.responses.default;
    if (!documented) return [`${op.operationId}: status ${key} is not documented`];
    const response = this.deref<{ content?: Record<string, { schema?: Schema }> }>(documented);
    if (!response.content || res.status === 304 || method.toLowerCase() === 'head') return [];
    const media = response.content[type];
    if (!media) return [`${op.operationId} ${key}: media type ${type} is not documented`];
    if (!media.schema || (type !== 'application/json' && type !== 'application/problem+json'))
      return [];
    const pointer = documented.$ref
      ? `spec${documented.$ref}/content/${type.replace('/', '~1')}/schema`
      : `spec#/paths/${op.template.replace(/~/g, '~0').replace(/\//g, '~1')}/${op.method}/responses/${key}/content/${type.replace('/', '~1')}/schema`;
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: pointer });
      this.validators.set(pointer, validate);
    }
    if (validate(res.body)) return [];
    return (validate.errors ?? []).map(
      (e) => `${op.operationId} ${key}: ${e.instancePath || '/'} ${e.message}`,
    );
  }
}
