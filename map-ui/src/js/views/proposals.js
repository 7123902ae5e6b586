// Usulan Warga: residents pin a need, see similar proposals nearby (and may support one instead),
// send, and keep the tracking code; published proposals are points coloured by status.
import { get, idempotencyKey } from '../api.js';
import * as outbox from '../outbox.js';
import { sendOutbox } from '../pwa.js';
import { shrinkPhoto } from '../photo.js';
import { clear, field, h, fill, add } from '../dom.js';
import { fmtNum, label, language, t } from '../i18n.js';
import { STATUS_COLOURS } from '../scales.js';
import { lonLatOf, renderProposal } from '../proposal-card.js';
import { FINAL_STATUSES, followForm } from '../follow.js';

const CATEGORIES = ['jalan', 'drainase', 'air_bersih', 'sanitasi', 'penerangan_jalan', 'fasilitas_umum', 'lainnya'];
const PUBLIC_STATUSES = ['diverifikasi', 'diprioritaskan', 'dianggarkan', 'dikerjakan', 'selesai'];

export default {
  id: 'usulan',
  title: 'nav.proposals',
  async mount(app, panel) {
    const map = app.map;
    const handlers = [];
    const on = (ev, ...rest) => { map.on(ev, ...rest); handlers.push([ev, ...rest]); };
    let pinning = false;
    let loc = null;
    const stopWatching = outbox.onChange(() => renderOutbox());
    this.unmount = () => {
      stopWatching();
      for (const [ev, ...rest] of handlers) map.off(ev, ...rest);
      map.setLayoutProperty('proposals', 'visibility', 'none');
      map.setPins([]);
      map.getCanvas().style.cursor = '';
    };
    map.setLayoutProperty('proposals', 'visibility', 'visible');
    map.neutral();
    app.setLegend([{ title: t('legend.proposal_status'), items: PUBLIC_STATUSES.map((s) => ({ colour: STATUS_COLOURS[s], text: label('status', s), kind: 'dot' })) }]);

    const pinBtn = h('button', { type: 'button', class: 'primary', id: 'pin-btn' }, t('prop.pin'));
    const centreBtn = h('button', { type: 'button', class: 'link', hidden: true }, t('prop.pin_keyboard'));
    const hint = h('p', { class: 'muted', role: 'status' });
    const form = h('form', { id: 'proposal-form', hidden: true });
    const result = h('section', { id: 'proposal-result', 'aria-live': 'polite' });
    const detail = h('section', { id: 'proposal-detail' });
    const outboxSection = h('section', { id: 'outbox', 'aria-live': 'polite' });
    const trackInput = h('input', { name: 'tracking_code', autocomplete: 'off' });
    const trackForm = h('form', { class: 'track' }, ...field(t('prop.track_code'), trackInput),
      h('div', { class: 'row' }, h('button', { type: 'submit' }, t('prop.track_go'))));

    const category = h('select', { name: 'category', required: true }, CATEGORIES.map((c) => h('option', { value: c }, label('category', c))));
    const title = h('input', { name: 'title', minlength: '5', maxlength: '120', required: true, 'aria-describedby': 'title-help' });
    const description = h('textarea', { name: 'description', maxlength: '2000', rows: '3' });
    const cost = h('input', { name: 'estimated_cost_idr', type: 'number', min: '0', step: '1000', inputmode: 'numeric' });
    const photo = h('input', { name: 'photo', type: 'file', accept: 'image/jpeg,image/png,image/webp' });
    const where = h('p', { class: 'muted' });
    const nearby = h('div', { id: 'nearby', 'aria-live': 'polite' });
    const error = h('p', { class: 'error', role: 'alert' });
    const send = h('button', { type: 'submit', class: 'primary', id: 'send-btn' }, t('prop.send'));
    add(form, where, ...field(t('prop.category'), category), ...field(t('prop.title'), title),
      h('p', { class: 'muted', id: 'title-help' }, t('prop.title_help')),
      ...field(t('prop.description'), description), ...field(t('prop.cost'), cost), ...field(t('prop.photo'), photo),
      nearby, error, h('div', { class: 'row' }, send));

    add(panel, h('h2', {}, t('prop.heading')), h('p', { class: 'muted' }, t('prop.intro')),
      h('div', { class: 'row' }, pinBtn, centreBtn), hint, form, result, detail, outboxSection,
      h('h3', {}, t('prop.track')), trackForm);
    renderOutbox();

    function setPinning(v) {
      pinning = v;
      pinBtn.textContent = t(v ? 'prop.pin_cancel' : 'prop.pin');
      pinBtn.setAttribute('aria-pressed', String(v));
      centreBtn.hidden = !v;
      hint.textContent = v ? t('prop.pin_hint') : '';
      map.getCanvas().style.cursor = v ? 'crosshair' : '';
      if (!v && !loc) form.hidden = true;
    }

    async function setLocation(lngLat) {
      loc = { lon: Number(lngLat.lng.toFixed(6)), lat: Number(lngLat.lat.toFixed(6)) };
      map.setPins([{ type: 'Feature', geometry: { type: 'Point', coordinates: [loc.lon, loc.lat] }, properties: {} }]);
      setPinning(false);
      clear(result);
      clear(detail);
      form.hidden = false;
      where.textContent = t('prop.location', { lat: fmtNum(loc.lat, 5), lon: fmtNum(loc.lon, 5) });
      category.focus();
      await checkNearby();
    }

    async function checkNearby() {
      if (!loc) return;
      clear(nearby);
      let list = [];
      try {
        const r = await get(`/api/proposals/nearby?lon=${loc.lon}&lat=${loc.lat}&category=${encodeURIComponent(category.value)}`);
        list = r?.proposals || [];
      } catch {
        list = [];
      }
      add(nearby, h('h3', {}, t('prop.nearby')));
      if (list.length === 0) return add(nearby, h('p', { class: 'muted' }, t('prop.nearby_none')));
      add(nearby, h('p', {}, t('prop.nearby_intro')), h('ul', { class: 'list' }, list.map((p) => h('li', {},
        h('strong', {}, p.title), ` · ${label('category', p.category)} · ${label('status', p.status)} · ${t('prop.distance', { m: fmtNum(Math.round(p.distance_m)) })} · ${t('prop.supports', { n: fmtNum(p.support_count) })}`,
        h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', onclick: () => openProposal(p.id, { viaNearby: true }) }, t('prop.support_instead')))))));
    }

    async function openProposal(id, { viaNearby = false } = {}) {
      form.hidden = true;
      clear(result);
      const p = await renderProposal(app, detail, { id, viaNearby });
      detail.querySelector('.prop-title')?.focus();
      return p;
    }

    pinBtn.addEventListener('click', () => setPinning(!pinning));
    centreBtn.addEventListener('click', () => setLocation(map.getCenter()));
    category.addEventListener('change', checkNearby);
    on('click', (e) => {
      if (pinning) return setLocation(e.lngLat);
      const f = map.queryRenderedFeatures(e.point, { layers: ['proposals'] })[0];
      if (f) openProposal(f.properties.id ?? f.id);
    });
    on('mouseenter', 'proposals', () => { if (!pinning) map.getCanvas().style.cursor = 'pointer'; });
    on('mouseleave', 'proposals', () => { if (!pinning) map.getCanvas().style.cursor = ''; });

    // Every submission goes through the outbox with its own Idempotency-Key: sent at once when
    // the server can be reached, kept and sent later when it cannot.
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      error.textContent = '';
      if (!loc) { error.textContent = t('err.pick_location'); return; }
      send.disabled = true;
      send.textContent = t('prop.sending');
      try {
        const fields = { lon: loc.lon, lat: loc.lat, category: category.value, title: title.value, description: description.value };
        if (cost.value) fields.estimated_cost_idr = Number(cost.value);
        let small = null;
        if (photo.files.length > 0) {
          try {
            small = await shrinkPhoto(photo.files[0]);
          } catch {
            error.textContent = t('prop.photo_unreadable');
            return;
          }
        }
        const item = await outbox.add({ key: idempotencyKey(), lang: language(), fields, photo: small });
        const [done] = navigator.onLine === false ? [] : await outbox.flush(item.id);
        if (done?.state === 'refused') {
          // Refused while the resident is still here: the form stays to be corrected.
          await outbox.remove(item.id);
          error.textContent = done.problem?.detail || done.reason;
          for (const fe of done.problem?.errors || []) error.append(h('br'), `${fe.field}: ${fe.message}`);
          return;
        }
        form.reset();
        form.hidden = true;
        loc = null;
        map.setPins([]);
        if (done?.state === 'sent') {
          await outbox.remove(item.id);
          fill(result,
            h('h3', { tabindex: '-1', id: 'sent-title' }, t('prop.sent')),
            h('p', {}, t('prop.tracking_code')), h('p', {}, h('span', { class: 'code', id: 'tracking-code' }, done.tracking_code)),
            h('p', { class: 'muted' }, t('prop.tracking_help')),
            followForm(done.tracking_code),
            h('div', { class: 'row' }, h('button', { type: 'button', onclick: () => setPinning(true) }, t('prop.new'))));
        } else {
          sendOutbox(); // asks for Background Sync
          fill(result,
            h('h3', { tabindex: '-1', id: 'sent-title' }, t('outbox.queued')),
            h('p', {}, t('outbox.queued_help')),
            h('div', { class: 'row' }, h('button', { type: 'button', onclick: () => setPinning(true) }, t('prop.new'))));
        }
        result.querySelector('#sent-title').focus();
      } catch (e) {
        error.textContent = e.message;
      } finally {
        send.disabled = false;
        send.textContent = t('prop.send');
      }
    });

    async function renderOutbox() {
      const items = await outbox.list().catch(() => []);
      clear(outboxSection);
      if (items.length === 0) return;
      add(outboxSection, h('h3', {}, t('outbox.heading')), h('p', { class: 'muted' }, t('outbox.intro')),
        h('ul', { class: 'list' }, items.map((i) => h('li', { class: `outbox-item outbox-${i.state}`, 'data-key': i.key },
          h('strong', {}, i.fields.title), ` · ${label('category', i.fields.category)}`, i.photo ? ` · ${t('outbox.with_photo')}` : '',
          h('div', { class: 'outbox-state' }, t(`outbox.state_${i.state}`),
            i.state === 'sent' ? [' · ', t('prop.tracking_code'), ' ', h('span', { class: 'code' }, i.tracking_code || '')] : '',
            i.state === 'refused' ? [' · ', t('prop.reason'), ': ', i.reason || ''] : ''),
          h('div', { class: 'row' }, h('button', {
            type: 'button',
            class: 'link',
            onclick: async () => {
              await outbox.remove(i.id);
              renderOutbox();
            },
          }, t(i.state === 'waiting' ? 'outbox.delete' : 'outbox.dismiss')))))));
    }

    // The tracking page: the proposal behind a code, with "Ikuti" (follow by email) below it.
    async function track(code) {
      form.hidden = true;
      const p = await renderProposal(app, detail, { tracking: code });
      if (p?.tracking_code) {
        // Its whole public history as an Atom feed, for a feed reader instead of an email.
        detail.append(h('p', { class: 'feeds' },
          h('a', { href: `/feeds/usulan/${encodeURIComponent(p.tracking_code)}.atom`, type: 'application/atom+xml', id: 'proposal-feed' }, t('feed.proposal')),
          h('br'), h('small', { class: 'muted' }, t('feed.help'))));
      }
      if (p && !FINAL_STATUSES.includes(p.status)) detail.append(followForm(p.tracking_code));
      const at = lonLatOf(p);
      if (at) {
        map.setPins([{ type: 'Feature', geometry: { type: 'Point', coordinates: at }, properties: { colour: STATUS_COLOURS[p.status] } }]);
        map.flyTo({ center: at, zoom: Math.max(map.getZoom(), 15), duration: 600 });
      }
    }

    trackForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!trackInput.value.trim()) return;
      await track(trackInput.value.trim());
    });

    app.openProposal = openProposal;
    // `#usulan/KODE` (the links in feeds and follower mails) opens that proposal's tracking page.
    if (app.routeArg) {
      trackInput.value = app.routeArg;
      await track(app.routeArg);
    }
  },
};
