// The console's one way to the API: same origin, the bearer token from session storage, and the
// tenant it chose. Errors are the API's problem+json, shown as they are.
const BASE = '/api/v1/mitre';
const TOKEN = 'ttpgraph.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Who signed in and what the API's policy lets them do (`GET me/`). */
export interface Caller {
  subject: string;
  tenant: string;
  roles: string[];
  permissions: string[];
}

let caller: Promise<Caller> | undefined;

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN),
  set: (value: string) => {
    caller = undefined;
    sessionStorage.setItem(TOKEN, value.trim());
  },
  clear: () => {
    caller = undefined;
    sessionStorage.removeItem(TOKEN);
  },
};

/** The signed-in caller, asked once per token: the console shows only what it may do. */
export function me(): Promise<Caller> {
  caller ??= api<Caller>('/me/');
  return caller;
}

export async function api<T>(path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${token.get() ?? ''}`,
    accept: 'application/json',
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${BASE}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    const problem = (await res.json().catch(() => ({}))) as { detail?: string; title?: string };
    throw new ApiError(res.status, problem.detail ?? problem.title ?? `HTTP ${res.status}`);
  }
  return (await res.json()) as T;
}

/** Fetches an answer with the token and saves it as `file` (a link cannot carry the header). */
export async function download(path: string, file: string): Promise<void> {
  const res = await fetch(`${BASE}${path}`, {
    headers: { authorization: `Bearer ${token.get() ?? ''}` },
  });
  if (!res.ok) throw new ApiError(res.status, `HTTP ${res.status}`);
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement('a'), { href: url, download: file });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
