// The installable, offline app: registers the service worker (/sw.js, scope '/') once the map
// has drawn, so its install reads the app shell from the HTTP cache instead of the network, and
// asks for Background Sync of the outbox where the browser has it.
import { SYNC_TAG, flush } from './outbox.js';

export function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return Promise.resolve(null);
  // A module worker: it imports the outbox module of its own build.
  return navigator.serviceWorker.register('/sw.js', { scope: '/', type: 'module', updateViaCache: 'none' })
    .catch((e) => {
      console.warn('service worker not registered', e);
      return null;
    });
}

/**
 * Sends the outbox now, and asks the browser to wake the service worker when the connection is
 * back (Background Sync) in case it is not; browsers without it get the next open or `online`.
 */
export async function sendOutbox() {
  const result = await flush().catch(() => []);
  if (result.some((i) => i.offline || i.retry)) {
    const reg = await navigator.serviceWorker?.getRegistration().catch(() => null);
    await reg?.sync?.register(SYNC_TAG).catch(() => null);
  }
  return result;
}
