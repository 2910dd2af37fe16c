import type { Request } from 'express';

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface PageRequest {
  limit: number;
  offset: number;
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** limit/offset from a query the validator has checked (numbers, or strings of digits). */
export function pageRequest(query: Record<string, unknown>): PageRequest {
  const limit = Number(query.limit ?? DEFAULT_LIMIT);
  const offset = Number(query.offset ?? 0);
  return {
    limit: Math.min(Math.max(1, limit || DEFAULT_LIMIT), MAX_LIMIT),
    offset: Math.max(0, offset || 0),
  };
}

/** The app setting that holds TTPGRAPH_PUBLIC_URL (no trailing slash), when configured. */
export const PUBLIC_URL_SETTING = 'public url';

/** What a page's links are made of: the request's URL and where this service is reached. */
export interface PageLinks {
  url: string;
  base: string;
}

/**
 * Links never come from the Host header (a client could point them anywhere): they are built on
 * the configured public URL, or relative to this server.
 */
export function pageLinks(req: Request): PageLinks {
  return {
    url: req.originalUrl,
    base: (req.app.get(PUBLIC_URL_SETTING) as string | undefined) ?? '',
  };
}

function linkTo(links: PageLinks, offset: number, limit: number): string {
  const url = new URL(links.url, 'http://link.invalid');
  url.searchParams.set('limit', String(limit));
  if (offset > 0) url.searchParams.set('offset', String(offset));
  else url.searchParams.delete('offset');
  return `${links.base}${url.pathname}${url.search}`;
}

/** The seed platform's (Django REST Framework) page shape: count, next, previous, results. */
export function toPage<T>(links: PageLinks, p: PageRequest, count: number, results: T[]): Page<T> {
  return {
    count,
    next: p.offset + p.limit < count ? linkTo(links, p.offset + p.limit, p.limit) : null,
    previous: p.offset > 0 ? linkTo(links, Math.max(0, p.offset - p.limit), p.limit) : null,
    results,
  };
}

/** A query flag the validator has checked: a boolean, or its string form. */
export function flag(value: unknown, fallback = false): boolean {
  if (value === undefined) return fallback;
  return value === true || value === 'true';
}

export function optionalFlag(value: unknown): boolean | null {
  return value === undefined ? null : flag(value);
}

/** A filter that may be repeated (`platform=a&platform=b`: any of them); null when absent. */
export function optionalList(value: unknown): string[] | null {
  const values = (Array.isArray(value) ? value : [value]).filter(
    (v): v is string => typeof v === 'string' && v !== '',
  );
  return values.length > 0 ? [...new Set(values)] : null;
}

export function optionalString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
