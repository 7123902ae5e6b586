// The residents' outbox: proposals written without a connection wait in IndexedDB, each with the
// Idempotency-Key it was given when written, and are sent when the connection returns (from the
// page on open and on `online`, from the service worker on Background Sync). The server answers a
// key it has seen with the first result, so an item sent twice (two tabs, a retry after a lost
// answer) still makes one proposal. Used by the page and by the service worker: no DOM here.
//
// An item: { id, key, lang, created_at, fields: {lon, lat, category, title, description,
// estimated_cost_idr?}, photo: Blob|null, state: 'waiting'|'sent'|'refused', tracking_code?,
// proposal_id?, reason? }.

const DB = 'sigap';
const STORE = 'outbox';
const CHANNEL = 'sigap-outbox';
export const SYNC_TAG = 'sigap-outbox';

// Version 1 of the database; a later version adds stores in onupgradeneeded and never drops this
// one, so an app update keeps what is waiting.
function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE, { keyPath: 'id', autoIncrement: true });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, fn) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const out = fn(t.objectStore(STORE));
      t.oncomplete = () => resolve(out?.result ?? out);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  } finally {
    db.close();
  }
}

function changed() {
  try {
    const c = new BroadcastChannel(CHANNEL);
    c.postMessage('changed');
    c.close();
  } catch {
    // No BroadcastChannel: the page that made the change re-renders by itself.
  }
}

/** Calls `fn` whenever the outbox changes (in this or another tab, or in the service worker). */
export function onChange(fn) {
  if (typeof BroadcastChannel === 'undefined') return () => {};
  const c = new BroadcastChannel(CHANNEL);
  c.onmessage = () => fn();
  return () => c.close();
}

/** Every item, oldest first. */
export const list = () => tx('readonly', (s) => s.getAll());

/** Stores a new waiting item; returns it with its id. */
export async function add(item) {
  const full = { ...item, state: 'waiting', created_at: new Date().toISOString() };
  full.id = await tx('readwrite', (s) => s.add(full));
  changed();
  return full;
}

/** Removes an item (a waiting one is then never sent). */
export async function remove(id) {
  await tx('readwrite', (s) => s.delete(id));
  changed();
}

const get = (id) => tx('readonly', (s) => s.get(id));

async function update(id, patch) {
  // Read and write in one transaction, so a deletion in between is not undone.
  await tx('readwrite', (s) => {
    const r = s.get(id);
    r.onsuccess = () => { if (r.result) s.put({ ...r.result, ...patch }); };
  });
  changed();
}

/** Sends one item; returns the server's answer as { ok, status, body } or null when unreachable. */
async function send(item) {
  const headers = { Accept: 'application/json', 'Accept-Language': item.lang || 'id', 'Idempotency-Key': item.key };
  // A signed-in resident's session wants its CSRF token on a write; ask for the current one.
  const me = await fetch('/api/auth/me', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
    .then((r) => (r.ok ? r.json() : null)).catch(() => null);
  if (me?.csrf_token) headers['X-CSRF-Token'] = me.csrf_token;
  let body;
  if (item.photo) {
    body = new FormData();
    for (const [k, v] of Object.entries(item.fields)) if (v !== undefined && v !== null && v !== '') body.set(k, String(v));
    body.set('photo', item.photo, item.photo.name || 'photo.jpg');
  } else {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(item.fields);
  }
  let res;
  try {
    res = await fetch('/api/proposals', { method: 'POST', headers, body, credentials: 'same-origin' });
  } catch {
    return null;
  }
  const data = await res.json().catch(() => null);
  return { ok: res.ok, status: res.status, body: data };
}

// Answers that say "not now" rather than "no": the item stays waiting.
const RETRY_LATER = new Set([401, 403, 408, 409, 425, 429]);

/**
 * Sends the item `id` (or every waiting item) once; returns the items' new states. One sender at a
 * time across tabs and the service worker (Web Locks where the browser has them).
 */
export async function flush(id) {
  const run = async () => {
    const items = id === undefined ? (await list()).filter((i) => i.state === 'waiting') : [await get(id)].filter(Boolean);
    const out = [];
    for (const listed of items) {
      // Another sender may have finished it while this one waited for the lock.
      const item = await get(listed.id);
      if (!item || item.state !== 'waiting') continue;
      const r = await send(item);
      if (!r) {
        out.push({ ...item, offline: true });
        break; // unreachable: the rest waits for the next chance
      }
      if (r.ok) {
        const patch = { state: 'sent', tracking_code: r.body?.tracking_code, proposal_id: r.body?.id };
        await update(item.id, patch);
        out.push({ ...item, ...patch });
      } else if (r.status >= 500 || RETRY_LATER.has(r.status)) {
        out.push({ ...item, retry: r.status });
      } else {
        const errors = (r.body?.errors || []).map((e) => `${e.field}: ${e.message}`);
        const patch = { state: 'refused', reason: [r.body?.detail || r.body?.title || String(r.status), ...errors].join(' · '), problem: r.body };
        await update(item.id, patch);
        out.push({ ...item, ...patch });
      }
    }
    return out;
  };
  return globalThis.navigator?.locks ? navigator.locks.request('sigap-outbox-flush', run) : run();
}
