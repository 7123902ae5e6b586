// The app shell: language, account, navigation between views, the map and the legend.
// On a phone's first visit every byte before the first render counts (docs/map.md, "Data on a
// phone"): the shell does not wait for MapLibre (map.js and MapLibre load while the language and
// the account are read), and each view's module loads when the view is first shown.
import { apply, initialLanguage, language, onLanguage, setLanguage, t, label } from './i18n.js';
import { get, post, setCsrf } from './api.js';
import { renderLegend } from './legend.js';
import { clear, h } from './dom.js';

// Started at once (index.html preloads both it and MapLibre), awaited when the map is made.
const mapModule = import('./map.js');

/** The views: what the navigation needs now, the module when the view is shown. */
const VIEWS = [
  { id: 'cakupan', title: 'nav.coverage', load: () => import('./views/coverage.js') },
  { id: 'usulan', title: 'nav.proposals', load: () => import('./views/proposals.js') },
  { id: 'anggaran', title: 'nav.budget', roles: ['official'], load: () => import('./views/budget.js') },
  { id: 'moderasi', title: 'nav.moderation', roles: ['moderator'], load: () => import('./views/moderation.js') },
  { id: 'mitra', title: 'nav.partners', roles: ['mitra', 'planner'], load: () => import('./views/partners.js') },
];
const $ = (s) => document.querySelector(s);

const app = {
  user: null,
  map: null,
  view: null,
  legendSections: [],
  available: {},
  setLegend(sections) {
    app.legendSections = sections;
    renderLegend($('#legend'), sections);
  },
  hasRole(...roles) {
    return !!app.user && (roles.includes(app.user.role) || app.user.role === 'admin');
  },
  requireLogin: () => openAuth('login'),
  rerender: () => show(app.view?.id || 'cakupan', true),
};
// For the browser tests: the map, and when it first drew our kelurahan.
window.sigap = app;

async function loadUser() {
  try {
    const me = await get('/api/auth/me');
    app.user = me.user;
    setCsrf(me.csrf_token);
  } catch {
    app.user = null;
    setCsrf(null);
  }
  renderWho();
  await probeBudget();
}

function renderWho() {
  const who = $('#who');
  const btn = $('#auth-btn');
  if (app.user) {
    who.textContent = `${t('auth.signed_in_as', { name: app.user.display_name || app.user.username })} (${label('role', app.user.role)})`;
    btn.dataset.i18n = 'auth.logout';
  } else {
    who.textContent = '';
    btn.dataset.i18n = 'auth.login';
  }
  btn.textContent = t(btn.dataset.i18n);
  renderNav();
}

function renderNav() {
  const nav = clear($('#nav'));
  for (const v of VIEWS) {
    if (v.roles && !app.hasRole(...v.roles)) continue;
    const unavailable = app.available[v.id] === false;
    nav.append(
      h('button', {
        type: 'button',
        id: `nav-${v.id}`,
        'aria-current': app.view?.id === v.id ? 'page' : null,
        disabled: unavailable,
        title: unavailable ? t('nav.unavailable') : null,
        onclick: () => { location.hash = v.id; },
      }, t(v.title)),
    );
  }
}

// A route is a view id, optionally with an argument: `#usulan/KODE` opens a tracking page.
let showing = 0;
async function show(route, force) {
  const [id, ...rest] = (route || '').split('/');
  const routeArg = rest.length ? decodeURIComponent(rest.join('/')) : null;
  const meta = VIEWS.find((v) => v.id === id && (!v.roles || app.hasRole(...v.roles)) && app.available[v.id] !== false) || VIEWS[0];
  const turn = ++showing;
  const next = (await meta.load()).default;
  // A later navigation while this module loaded wins.
  if (turn !== showing) return;
  app.routeArg = routeArg;
  if (app.view === next && !force && !app.routeArg) return;
  if (app.view?.unmount) app.view.unmount(app);
  app.view = next;
  renderNav();
  const panel = clear($('#panel'));
  await next.mount(app, panel);
}

// Login and registration share one dialog.
let authMode = 'login';
function openAuth(mode) {
  authMode = mode;
  const d = $('#auth-dialog');
  d.querySelector('.reg-only').hidden = mode !== 'register';
  $('#auth-title').textContent = t(mode === 'login' ? 'auth.login' : 'auth.register');
  $('#auth-submit').textContent = t(mode === 'login' ? 'auth.submit_login' : 'auth.submit_register');
  $('#auth-switch').textContent = t(mode === 'login' ? 'auth.switch_register' : 'auth.switch_login');
  d.querySelector('[name=password]').autocomplete = mode === 'login' ? 'current-password' : 'new-password';
  $('#auth-error').textContent = '';
  if (!d.open) d.showModal();
  d.querySelector('[name=username]').focus();
}

function wireAuth() {
  $('#auth-btn').addEventListener('click', async () => {
    if (!app.user) return openAuth('login');
    await post('/api/auth/logout').catch(() => null);
    app.user = null;
    setCsrf(null);
    renderWho();
    app.rerender();
  });
  $('#auth-switch').addEventListener('click', () => openAuth(authMode === 'login' ? 'register' : 'login'));
  $('#auth-close').addEventListener('click', () => $('#auth-dialog').close());
  $('#auth-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const body = { username: f.get('username'), password: f.get('password') };
    if (authMode === 'register') {
      body.display_name = f.get('display_name') || f.get('username');
      if (f.get('phone')) body.phone = f.get('phone');
      if (f.get('home_kelurahan_code')) body.home_kelurahan_code = f.get('home_kelurahan_code');
    }
    try {
      if (authMode === 'register') await post('/api/auth/register', body);
      else await post('/api/auth/login', body);
      await loadUser();
      $('#auth-dialog').close();
      ev.target.reset();
      app.rerender();
    } catch (e) {
      $('#auth-error').textContent = e.message;
    }
  });
}

// The budget API arrives after the map: where it answers 404 the view stays disabled.
async function probeBudget() {
  if (!app.hasRole('official')) return;
  const res = await fetch('/api/budget/ranking', { credentials: 'same-origin' }).catch(() => null);
  app.available.anggaran = !!res && res.status !== 404;
  renderNav();
}

async function start() {
  await setLanguage(initialLanguage());
  const sel = $('#lang');
  sel.value = language();
  sel.addEventListener('change', () => setLanguage(sel.value));
  onLanguage(() => {
    renderWho();
    renderLegend($('#legend'), app.legendSections);
    app.map?.setNote();
    if (app.view) app.rerender();
  });
  wireAuth();
  // The map starts as soon as MapLibre is here; the account is asked for meanwhile, and the
  // first view's module fetched.
  let t0 = performance.now();
  const mapReady = mapModule.then(({ createMap }) => {
    t0 = performance.now();
    return createMap($('#map'));
  }).then((map) => {
    // Drawn: the first time every tile on screen has loaded (or failed). What is not needed for
    // the first screen (the panel's data, the service worker) waits for it.
    app.drawn = new Promise((r) => map.once('idle', r));
    return map;
  });
  VIEWS.find((v) => v.id === location.hash.slice(1).split('/')[0])?.load().catch(() => null);
  await loadUser();
  try {
    app.map = await mapReady;
  } catch (e) {
    $('#map').append(h('p', { class: 'error' }, t('map.webgl_error')));
    throw e;
  }
  // First render: the first idle frame once the kelurahan layer has features on screen.
  app.firstRender = new Promise((resolve) => {
    const check = () => {
      if (app.map.queryRenderedFeatures({ layers: ['kel-fill'] }).length > 0) {
        app.firstRenderMs = performance.now() - t0;
        app.firstRenderSinceNavigationMs = performance.now();
        app.map.off('idle', check);
        resolve(app.firstRenderMs);
      }
    };
    app.map.on('idle', check);
    // The account check may have outlasted the first idle frame.
    if (app.map.loaded() && app.map.areTilesLoaded()) check();
  });
  await new Promise((r) => (app.map.loaded() ? r() : app.map.once('load', r)));
  window.addEventListener('hashchange', () => show(location.hash.slice(1)));
  apply(document);
  await show(location.hash.slice(1) || 'cakupan');
  document.body.dataset.ready = '1';
  // Installable and offline, once the map has drawn: the service worker, and the outbox sent
  // now and whenever the connection returns.
  await app.drawn;
  const { registerServiceWorker, sendOutbox } = await import('./pwa.js');
  registerServiceWorker();
  sendOutbox();
  window.addEventListener('online', () => sendOutbox());
}

start();
