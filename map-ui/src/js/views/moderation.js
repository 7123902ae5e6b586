// Moderation: the queue (oldest first) with each proposal pinned on the map and its nearby
// duplicates beside it; approve, reject with a public reason, or merge into a duplicate.
import { get, post } from '../api.js';
import { clear, field, h, fill, add } from '../dom.js';
import { fmtDate, fmtNum, label, t } from '../i18n.js';
import { STATUS_COLOURS } from '../scales.js';
import { lonLatOf, statusBadge } from '../proposal-card.js';

const SELECTED = '#D55E00';

export default {
  id: 'moderasi',
  title: 'nav.moderation',
  roles: ['moderator'],
  async mount(app, panel) {
    const map = app.map;
    this.unmount = () => map.setPins([]);
    map.neutral();
    app.setLegend([{ title: t('legend.proposal_status'), items: [
      { colour: STATUS_COLOURS.diajukan, text: label('status', 'diajukan'), kind: 'dot' },
      { colour: SELECTED, text: t('mod.selected'), kind: 'dot' }] }]);
    const list = h('ul', { class: 'list', id: 'mod-queue' });
    const heading = h('h3', {});
    const instead = h('p', { class: 'muted', id: 'mod-instead' });
    const detail = h('section', { id: 'mod-detail', 'aria-live': 'polite' });
    add(panel, h('h2', {}, t('mod.heading')), detail, heading, instead, list);
    if (!app.hasRole('moderator')) {
      heading.textContent = t('mod.need_login');
      return;
    }

    async function load() {
      clear(list);
      clear(detail);
      let items = [];
      let supportsInstead = 0;
      try {
        const queue = await get('/api/moderation/queue');
        items = queue.items || [];
        supportsInstead = queue.supports_instead_of_new ?? 0;
      } catch (e) {
        heading.textContent = e.message;
        return;
      }
      heading.textContent = t('mod.queue', { n: fmtNum(items.length) });
      // How often residents supported a similar proposal instead of pinning a duplicate.
      instead.textContent = t('mod.instead', { n: fmtNum(supportsInstead) });
      queuePins = items.map((p) => lonLatOf(p)).filter(Boolean).map((at) => pin(at, 5, STATUS_COLOURS.diajukan));
      map.setPins(queuePins);
      if (items.length === 0) add(list, h('li', { class: 'muted' }, t('mod.empty')));
      for (const p of items) {
        add(list, h('li', {}, h('button', { type: 'button', class: 'link', dataset: { id: p.id }, onclick: () => select(p) }, p.title),
          h('br'), h('span', { class: 'muted' }, `${label('category', p.category)} · ${p.kelurahan_code ?? ''} · ${fmtDate(p.created_at)}`)));
      }
    }

    // Map context: every pending proposal as a small dot, the one being reviewed large.
    let queuePins = [];
    const pin = (at, radius, colour) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: at }, properties: { radius, colour } });

    function select(p) {
      const here = lonLatOf(p);
      const dups = p.nearby_duplicates || [];
      map.setPins(here ? [...queuePins, pin(here, 10, SELECTED)] : queuePins);
      if (here) map.flyTo({ center: here, zoom: 14, duration: 600 });
      const msg = h('p', { role: 'status' });
      const reason = h('textarea', { name: 'reason', rows: '2' });
      const into = h('select', { name: 'merged_into' }, dups.map((d) => h('option', { value: d.id }, `${d.title} (${label('status', d.status)})`)));
      const act = async (body) => {
        try {
          await post(`/api/proposals/${p.id}/status`, body);
          await load();
          heading.after(h('p', { class: 'ok', role: 'status' }, t('mod.done')));
          map.sigapRefresh();
        } catch (e) {
          msg.textContent = e.message;
          msg.className = 'error';
        }
      };
      fill(detail, 
        h('h3', { tabindex: '-1', id: 'mod-title' }, p.title),
        h('p', {}, statusBadge(p.status), ' ', label('category', p.category)),
        // How many residents follow it by email (never who).
        h('p', { class: 'muted', id: 'mod-followers' }, t('follow.count', { n: fmtNum(p.follower_count ?? 0) })),
        h('p', {}, p.description || ''),
        p.photo_url || p.has_photo ? h('img', { src: p.photo_url || `/api/proposals/${p.id}/photo`, alt: p.title, style: 'max-width:100%' }) : null,
        h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', id: 'approve-btn', onclick: () => act({ to: 'diverifikasi' }) }, t('mod.approve'))),
        ...field(t('mod.reject_reason'), reason),
        h('div', { class: 'row' }, h('button', { type: 'button', id: 'reject-btn', onclick: () => {
          if (!reason.value.trim()) { msg.textContent = t('mod.reason_required'); msg.className = 'error'; return null; }
          return act({ to: 'ditolak', reason: reason.value.trim() });
        } }, t('mod.reject'))),
        dups.length ? h('h3', {}, t('mod.duplicates')) : null,
        dups.length ? h('ul', { class: 'list' }, dups.map((d) => h('li', {}, d.title, ' ', statusBadge(d.status),
          d.distance_m !== undefined ? ` · ${t('prop.distance', { m: fmtNum(Math.round(d.distance_m)) })}` : ''))) : null,
        dups.length ? [...field(t('mod.merge'), into), h('div', { class: 'row' }, h('button', { type: 'button', id: 'merge-btn', onclick: () => act({ to: 'digabung', merged_into: /^\d+$/.test(into.value) ? Number(into.value) : into.value }) }, t('mod.merge_go')))] : null,
        msg,
      );
      detail.querySelector('#mod-title').focus();
    }

    await load();
  },
};
