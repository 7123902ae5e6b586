// Anggaran: the ranking (synced with the map), a scenario form, the allocation on the map and
// per kecamatan against need, a comparison of two scenarios, and CSV/XLSX exports.
// Built against docs/api.md (/api/budget/...); the shell disables this view where it answers 404.
import { get, post } from '../api.js';
import { field, h, fill, add } from '../dom.js';
import { fmtIdr, fmtNum, t } from '../i18n.js';
import { VIRIDIS, CIVIDIS } from '../scales.js';
import { lonLatOf } from '../proposal-card.js';

const rowsOf = (r, ...keys) => (Array.isArray(r) ? r : keys.map((k) => r?.[k]).find(Array.isArray) || []);
const pct = (v) => `${fmtNum(Number(v) * (Number(v) <= 1 ? 100 : 1), 1)}%`;

export default {
  id: 'anggaran',
  title: 'nav.budget',
  roles: ['official'],
  async mount(app, panel) {
    const map = app.map;
    this.unmount = () => map.setPins([]);
    map.neutral();
    app.setLegend([{ title: t('bud.results'), items: [
      { colour: VIRIDIS[3], text: t('bud.funded'), kind: 'dot' }, { colour: CIVIDIS[2], text: t('bud.ranking'), kind: 'dot' }] }]);
    add(panel, h('h2', {}, t('bud.heading')));
    let ranking;
    try {
      ranking = rowsOf(await get('/api/budget/ranking'), 'items', 'ranking', 'proposals');
    } catch (e) {
      add(panel, h('p', { class: 'muted' }, e.status === 404 ? t('bud.unavailable') : e.message));
      return;
    }
    const pinsOf = (rows, colour) => rows.map((r) => ({ r, at: lonLatOf(r) })).filter((x) => x.at)
      .map(({ at }) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: at }, properties: { colour } }));
    map.setPins(pinsOf(ranking, CIVIDIS[2]));

    const tbody = h('tbody', {});
    ranking.forEach((r, i) => {
      const tr = h('tr', { tabindex: '0', 'aria-selected': 'false' },
        h('td', { class: 'num' }, fmtNum(r.rank ?? i + 1)), h('td', {}, r.title), h('td', {}, r.kecamatan_name ?? r.kecamatan_code ?? ''),
        h('td', { class: 'num' }, fmtNum(r.score ?? r.priority, 3)), h('td', { class: 'num' }, fmtIdr(r.estimated_cost_idr ?? r.cost_idr)));
      const pick = () => {
        for (const o of tbody.children) o.setAttribute('aria-selected', 'false');
        tr.setAttribute('aria-selected', 'true');
        const at = lonLatOf(r);
        if (at) map.flyTo({ center: at, zoom: 15, duration: 600 });
      };
      tr.addEventListener('click', pick);
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pick(); } });
      tbody.append(tr);
    });
    const name = h('input', { name: 'name', required: true, value: 'Skenario A' });
    const budget = h('input', { name: 'budget_idr', type: 'number', min: '0', step: '1000000', required: true, inputmode: 'numeric' });
    const capShare = h('input', { name: 'kecamatan_cap_share', type: 'number', min: '0', max: '100', step: '1' });
    const msg = h('p', { role: 'alert', class: 'error' });
    const results = h('section', { id: 'budget-results', 'aria-live': 'polite' });
    const form = h('form', { id: 'scenario-form' }, ...field(t('bud.name'), name), ...field(t('bud.budget'), budget),
      ...field(t('bud.kec_cap_share'), capShare), msg, h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, t('bud.run'))));
    const scenarios = [];
    const compareSel = h('select', { name: 'compare' });
    const compareOut = h('div', { id: 'budget-compare' });

    add(panel, h('h3', {}, t('bud.ranking')),
      h('div', { style: 'max-height:260px;overflow:auto' }, h('table', { id: 'ranking' },
        h('thead', {}, h('tr', {}, h('th', { class: 'num' }, t('bud.rank')), h('th', {}, t('bud.title')), h('th', {}, t('bud.kecamatan')),
          h('th', { class: 'num' }, t('bud.score')), h('th', { class: 'num' }, t('bud.cost')))), tbody)),
      h('h3', {}, t('bud.scenario')), form, results);

    function showResult(id, r) {
      const funded = rowsOf(r, 'funded');
      const unfunded = rowsOf(r, 'unfunded');
      const perKec = rowsOf(r, 'per_kecamatan', 'kecamatan');
      map.setPins([...pinsOf(ranking, CIVIDIS[2]), ...pinsOf(funded, VIRIDIS[3])]);
      const maxShare = Math.max(0.0001, ...perKec.flatMap((k) => [Number(k.alloc_share ?? 0), Number(k.need_share ?? 0)]));
      fill(results, 
        h('h3', {}, t('bud.results')), h('p', {}, t('bud.method', { method: r.method ?? '' })),
        h('table', { id: 'results-table' }, h('thead', {}, h('tr', {}, h('th', {}, t('bud.title')), h('th', { class: 'num' }, t('bud.cost')))),
          h('tbody', {}, funded.map((f) => h('tr', {}, h('td', {}, f.title), h('td', { class: 'num' }, fmtIdr(f.estimated_cost_idr ?? f.cost_idr)))))),
        unfunded.length ? h('details', {}, h('summary', {}, t('bud.reason')), h('ul', { class: 'list' },
          unfunded.map((u) => h('li', {}, `${u.title ?? u.id}: ${u.reason ?? ''}`)))) : null,
        h('h3', {}, t('bud.chart')),
        h('div', { role: 'img', 'aria-label': t('bud.chart') }, perKec.map((k) => h('div', {},
          h('div', { class: 'muted' }, k.kecamatan_name ?? k.kecamatan_code, ` · ${fmtIdr(k.allocated_idr ?? k.total_idr)}`),
          h('div', { class: 'bar' }, h('span', { class: 'b', style: `width:${(140 * Number(k.alloc_share ?? 0)) / maxShare}px;background:${VIRIDIS[2]}` }), `${t('bud.alloc_share')} ${pct(k.alloc_share ?? 0)}`),
          h('div', { class: 'bar' }, h('span', { class: 'b', style: `width:${(140 * Number(k.need_share ?? 0)) / maxShare}px;background:${CIVIDIS[3]}` }), `${t('bud.need_share')} ${pct(k.need_share ?? 0)}`)))),
        h('div', { class: 'row' },
          h('a', { href: `/api/budget/scenarios/${id}?f=csv`, download: '' }, t('bud.export_csv')),
          h('a', { href: `/api/budget/scenarios/${id}?f=xlsx`, download: '' }, t('bud.export_xlsx'))),
      );
      if (scenarios.length > 1) {
        fill(compareSel, ...scenarios.filter((s) => s.id !== id).map((s) => h('option', { value: s.id }, s.name)));
        add(results, ...field(t('bud.compare'), compareSel), h('div', { class: 'row' }, h('button', { type: 'button', onclick: async () => {
          try {
            const c = await get(`/api/budget/compare?a=${encodeURIComponent(compareSel.value)}&b=${encodeURIComponent(id)}`);
            const list = (k) => rowsOf(c, k).map((x) => h('li', {}, x.title ?? x.id));
            fill(compareOut, h('h4', {}, t('bud.only_a')), h('ul', {}, list('only_a')), h('h4', {}, t('bud.only_b')), h('ul', {}, list('only_b')));
          } catch (e) {
            fill(compareOut, h('p', { class: 'error' }, e.message));
          }
        } }, t('bud.compare_go'))), compareOut);
      }
    }

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      msg.textContent = '';
      try {
        const body = { name: name.value, budget_idr: Number(budget.value) };
        if (capShare.value) body.kecamatan_cap_share = Number(capShare.value) / 100;
        const s = await post('/api/budget/scenarios', body);
        scenarios.push({ id: s.id, name: name.value });
        const r = await post(`/api/budget/scenarios/${s.id}/solve`);
        showResult(s.id, r);
      } catch (e) {
        msg.textContent = e.message;
      }
    });
  },
};
