import type { NextFunction, Request, RequestHandler, Response } from 'express';

interface Parameter {
  name?: string;
  in?: string;
  schema?: { type?: string };
  $ref?: string;
}

interface Spec {
  paths: Record<string, Record<string, { parameters?: Parameter[] }>>;
  components?: { parameters?: Record<string, Parameter> };
}

const SPELLINGS: Record<string, string> = {
  '1': 'true',
  '0': 'false',
  True: 'true',
  False: 'false',
};

/** The names of the contract's boolean query parameters. */
function booleanNames(spec: Spec): Set<string> {
  const components = spec.components?.parameters ?? {};
  const names = new Set<string>();
  for (const item of Object.values(spec.paths))
    for (const op of Object.values(item))
      for (const p of op.parameters ?? []) {
        const param = p.$ref ? components[p.$ref.split('/').pop() as string] : p;
        if (param?.in === 'query' && param.schema?.type === 'boolean' && param.name)
          names.add(param.name);
      }
  return names;
}

/**
 * Boolean filters as django-filter takes them (true/false, 1/0, True/False), rewritten to
 * true/false before the validator reads the query: the validator stays strict for the rest.
 */
export function booleanQuery(spec: Spec): RequestHandler {
  const names = booleanNames(spec);
  return (req: Request, _res: Response, next: NextFunction) => {
    const q = req.url.indexOf('?');
    if (q === -1) return next();
    const params = new URLSearchParams(req.url.slice(q + 1));
    let changed = false;
    for (const [name, value] of [...params]) {
      const spelled = names.has(name) ? SPELLINGS[value] : undefined;
      if (spelled) {
        params.set(name, spelled);
        changed = true;
      }
    }
    if (changed) {
      req.url = `${req.url.slice(0, q)}?${params.toString()}`;
      const o = req.originalUrl.indexOf('?');
      req.originalUrl = `${o === -1 ? req.originalUrl : req.originalUrl.slice(0, o)}?${params.toString()}`;
    }
    next();
  };
}
