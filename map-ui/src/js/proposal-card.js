// One proposal, as residents and moderators see it: status, supports, history, photo, and the
// support button for logged-in residents. Shared by the proposals and moderation views.
import { del, get, post } from './api.js';
import { h, fill } from './dom.js';
import { fmtDate, fmtIdr, fmtNum, label, t } from './i18n.js';
import { STATUS_COLOURS } from './scales.js';

/** [lon, lat] of a proposal in any of the shapes the API may give it. */
export function lonLatOf(p) {
  if (p?.location?.coordinates) return p.location.coordinates;
  if (p?.geometry?.coordinates) return p.geometry.coordinates;
  if (Number.isFinite(p?.lon) && Number.isFinite(p?.lat)) return [p.lon, p.lat];
  return null;
}

export function statusBadge(status) {
  return h('span', { class: 'badge', style: `background:${STATUS_COLOURS[status] || '#777'}` }, label('status', status));
}

/** Fills `box` with the proposal `id` (or, with `tracking`, the one behind a tracking code). */
export async function renderProposal(app, box, { id, tracking, viaNearby = false }) {
  fill(box, h('p', { class: 'muted' }, t('common.loading')));
  let p;
  try {
    p = tracking ? await get(`/api/proposals/track/${encodeURIComponent(tracking)}`) : await get(`/api/proposals/${encodeURIComponent(id)}`);
  } catch (e) {
    fill(box, h('p', { class: 'error', role: 'alert' }, e.message));
    return null;
  }
  const count = h('span', { class: 'support-count' }, t('prop.supports', { n: fmtNum(p.support_count ?? 0) }));
  const msg = h('p', { role: 'status' });
  let supported = !!p.supported;
  const btn = h('button', { type: 'button', class: 'primary', id: 'support-btn' });
  const setBtn = () => { btn.textContent = t(supported ? 'prop.unsupport' : 'prop.support'); btn.setAttribute('aria-pressed', String(supported)); };
  setBtn();
  btn.addEventListener('click', async () => {
    if (!app.user) return app.requireLogin();
    try {
      const r = supported ? await del(`/api/proposals/${p.id}/support`) : await post(`/api/proposals/${p.id}/support${viaNearby ? '?via=nearby' : ''}`);
      supported = !!r.supported;
      count.textContent = t('prop.supports', { n: fmtNum(r.support_count) });
      msg.textContent = supported ? t('prop.supported') : '';
      msg.className = 'ok';
      setBtn();
    } catch (e) {
      msg.textContent = e.message;
      msg.className = 'error';
    }
  });
  const isPublic = !['diajukan', 'ditolak', 'digabung'].includes(p.status);
  fill(box, 
    h('h3', { tabindex: '-1', class: 'prop-title' }, p.title),
    h('p', {}, statusBadge(p.status), ' ', label('category', p.category), ' · ', count),
    p.tracking_code ? h('p', { class: 'muted' }, `${t('prop.tracking_code')}: `, h('code', {}, p.tracking_code)) : null,
    // Only staff get a follower count (a number, never who).
    Number.isFinite(p.follower_count) ? h('p', { class: 'muted', id: 'follower-count' }, t('follow.count', { n: fmtNum(p.follower_count) })) : null,
    h('p', {}, p.description || ''),
    p.photo_url || p.has_photo ? h('img', { src: p.photo_url || `/api/proposals/${p.id}/photo`, alt: p.title, style: 'max-width:100%' }) : null,
    h('dl', { class: 'kv' },
      h('dt', {}, t('prop.kelurahan')), h('dd', {}, p.kelurahan_name || p.kelurahan_code || t('common.none')),
      h('dt', {}, t('prop.cost_label')), h('dd', {}, fmtIdr(p.estimated_cost_idr)),
      h('dt', {}, t('prop.created', { date: '' }).trim()), h('dd', {}, fmtDate(p.created_at))),
    p.reason || p.status_reason ? h('p', {}, h('strong', {}, `${t('prop.reason')}: `), p.reason || p.status_reason) : null,
    isPublic && (!app.user || app.user.role === 'resident') ? h('div', { class: 'row' }, btn) : null,
    isPublic && !app.user ? h('p', { class: 'muted' }, t('auth.need_login')) : null,
    msg,
    h('h3', {}, t('prop.history')),
    h('ol', { class: 'list history' }, (p.history || []).map((e) => h('li', {},
      `${fmtDate(e.at)}: `, e.from_status ? `${label('status', e.from_status)} → ` : '', label('status', e.to_status), e.note ? ` — ${e.note}` : ''))),
  );
  return p;
}
