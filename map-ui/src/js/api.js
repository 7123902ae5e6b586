// The server, as the map sees it: JSON in and out, problem+json errors turned into ApiError with
// the server's own message (already in the user's language), and the CSRF header on writes.
import { language, t } from './i18n.js';

let csrf = null;

export function setCsrf(token) {
  csrf = token || null;
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || t('err.generic'));
    this.status = status;
    this.problem = problem;
  }
}

/** A random key for one write (crypto.randomUUID needs https; getRandomValues does not). */
export function idempotencyKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// A POST carries an Idempotency-Key and is sent again with the same key when the network fails
// or the server is briefly unavailable (503): the server answers a retry with the first result,
// so a submission is never made twice.
const RETRY_DELAYS_MS = [1000, 3000];

export async function request(method, path, body) {
  const headers = { Accept: 'application/json', 'Accept-Language': language() };
  const init = { method, headers, credentials: 'same-origin' };
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  if (method === 'POST') headers['Idempotency-Key'] = idempotencyKey();
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  for (let attempt = 0; ; attempt++) {
    const retry = method === 'POST' && attempt < RETRY_DELAYS_MS.length;
    try {
      res = await fetch(path, init);
    } catch {
      if (!retry) throw new ApiError(0, { detail: t('err.network') });
      await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
      continue;
    }
    if (res.status !== 503 || !retry) break;
    await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
  }
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json().catch(() => null) : null;
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const get = (p) => request('GET', p);
export const post = (p, b) => request('POST', p, b ?? {});
export const del = (p) => request('DELETE', p);

/** Every feature of an OGC collection, following `next` links. */
export async function ogcItems(collection, params = {}) {
  const q = new URLSearchParams({ f: 'json', limit: '1000', ...params });
  let url = `/ogc/collections/${collection}/items?${q}`;
  const out = [];
  for (let guard = 0; url && guard < 100; guard++) {
    const page = await get(url);
    out.push(...(page?.features || []));
    const next = (page?.links || []).find((l) => l.rel === 'next');
    // Same origin whatever host name the server put in its links.
    url = next ? (({ pathname, search }) => pathname + search)(new URL(next.href, location.href)) : null;
  }
  return out;
}
