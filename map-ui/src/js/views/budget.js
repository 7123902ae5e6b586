// Anggaran, for officials: the priority ranking (a row flies the map to its proposal), a scenario
// form (budget, a cap per kecamatan), the allocation on the map and per kecamatan against need,
// a comparison of two scenarios, and CSV/XLSX exports. API: /api/budget (docs/api.md, docs/budget.md).
// The shell disables this view where the server answers 404.
import { get, ogcItems, post } from '../api.js';
import { add, fill, field, h } from '../dom.js';
import { fmtIdr, fmtNum, label, t } from '../i18n.js';
import { CIVIDIS, VIRIDIS } from '../scales.js';

const FUNDED = VIRIDIS[3];
const CANDIDATE = CIVIDIS[1];
const pct = (share) => `${fmtNum(Number(share) * 100, 1)}%`;

// Proposal locations and kecamatan names from the OGC collections (the budget API carries ids and
// codes only; kecamatan without their shapes, only the names are used); fetched once per page.
let lookups = null;
function loadLookups() {
  lookups ??= Promise.all([ogcItems('proposals').catch(() => []), ogcItems('kecamatan', { skipGeometry: 'true' }).catch(() => [])]).then(([props, kec]) => ({
    at: new Map(props.map((f) => [Number(f.properties.id ?? f.id), f.geometry?.coordinates])),
    kecamatan: new Map(kec.map((f) => [f.properties.code, f.properties.name])),
  }));
  return lookups;
}

export default {
  id: 'anggaran',
  title: 'nav.budget',
  roles: ['official'],
  async mount(app, panel) {
    const map = app.map;
    this.unmount = () => map.setPins([]);
    map.neutral();
    app.setLegend([{ title: t('bud.results'), items: [
      { colour: CANDIDATE, text: t('bud.candidate'), kind: 'dot' }, { colour: FUNDED, text: t('bud.funded'), kind: 'dot' }] }]);
    add(panel, h('h2', {}, t('bud.heading')));
    let ranking;
    try {
      ranking = (await get('/api/budget/ranking')).proposals || [];
    } catch (e) {
      add(panel, h('p', { class: 'muted' }, e.status === 404 ? t('bud.unavailable') : e.message));
      return;
    }
    const { at, kecamatan } = await loadLookups();
    const kecName = (code) => kecamatan.get(code) || code;
    const pinsOf = (ids, colour, radius) => ids.map((id) => at.get(Number(id))).filter(Boolean)
      .map((c) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: { colour, radius } }));
    const allIds = ranking.map((r) => r.id);
    map.setPins(pinsOf(allIds, CANDIDATE, 5));

    const tbody = h('tbody', {});
    ranking.forEach((r, i) => {
      const s = r.score || {};
      const tr = h('tr', { tabindex: '0', 'aria-selected': 'false', dataset: { id: r.id } },
        h('td', { class: 'num' }, fmtNum(i + 1)),
        h('td', {}, r.title, h('br'), h('span', { class: 'muted' },
          `${label('category', r.category)} · ${kecName(r.kecamatan_code)} · ${t('bud.components', { gap: fmtNum(s.gap, 2), support: fmtNum(s.support, 2), cost: s.cost_effectiveness === null || s.cost_effectiveness === undefined ? t('common.none') : fmtNum(s.cost_effectiveness, 2) })}`)),
        h('td', { class: 'num' }, fmtNum(s.score, 3)),
        h('td', { class: 'num' }, fmtIdr(r.estimated_cost_idr)));
      const pick = () => {
        for (const o of tbody.children) o.setAttribute('aria-selected', 'false');
        tr.setAttribute('aria-selected', 'true');
        const c = at.get(Number(r.id));
        if (c) map.flyTo({ center: c, zoom: 15, duration: 600 });
      };
      tr.addEventListener('click', pick);
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pick(); } });
      tbody.append(tr);
    });

    const name = h('input', { name: 'name', required: true, maxlength: '120', value: `${t('bud.scenario')} 1` });
    const budget = h('input', { name: 'budget_idr', type: 'number', min: '0', step: '1000000', required: true, inputmode: 'numeric' });
    const capShare = h('input', { name: 'kecamatan_cap_share', type: 'number', min: '0', max: '100', step: '1' });
    const uncosted = h('input', { type: 'checkbox', name: 'exclude_uncosted', checked: true });
    const msg = h('p', { role: 'alert', class: 'error' });
    const results = h('section', { id: 'budget-results', 'aria-live': 'polite' });
    const form = h('form', { id: 'scenario-form' }, ...field(t('bud.name'), name), ...field(t('bud.budget'), budget),
      ...field(t('bud.kec_cap_share'), capShare), h('label', { class: 'check' }, uncosted, t('bud.exclude_uncosted')),
      msg, h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'run-btn' }, t('bud.run'))));
    const scenarios = [];

    add(panel, h('h3', {}, t('bud.ranking')),
      h('div', { style: 'max-height:240px;overflow:auto' }, h('table', { id: 'ranking' },
        h('thead', {}, h('tr', {}, h('th', { class: 'num' }, t('bud.rank')), h('th', {}, t('bud.title')),
          h('th', { class: 'num' }, t('bud.score')), h('th', { class: 'num' }, t('bud.cost')))), tbody)),
      h('h3', {}, t('bud.scenario')), form, results);

    function showResult(s) {
      const r = s.result || {};
      const alloc = r.allocation || {};
      const byId = new Map((r.proposals || []).map((p) => [p.id, p]));
      const funded = (alloc.funded || []).map((id) => byId.get(id)).filter(Boolean);
      const unfunded = (r.proposals || []).filter((p) => p.funded === false);
      const rows = r.equity?.rows || [];
      map.setPins([...pinsOf(allIds.filter((id) => !(alloc.funded || []).includes(id)), CANDIDATE, 5), ...pinsOf(alloc.funded || [], FUNDED, 8)]);
      const maxShare = Math.max(0.0001, ...rows.flatMap((k) => [k.spent_share, k.need_share]));
      const bar = (share, colour) => h('span', { class: 'b', style: `width:${Math.round((150 * share) / maxShare)}px;background:${colour}` });
      const others = scenarios.filter((x) => x.id !== s.id);
      const compareSel = h('select', { name: 'compare' }, others.map((x) => h('option', { value: x.id }, x.name)));
      const compareOut = h('div', { id: 'budget-compare' });
      fill(results,
        h('h3', { tabindex: '-1', id: 'results-title' }, `${t('bud.results')}: ${s.name}`),
        h('p', {}, t('bud.method', { method: label('method', alloc.method) }), ' · ',
          t('bud.spent', { spent: fmtIdr(alloc.spent_idr), budget: fmtIdr(alloc.budget_idr) })),
        h('table', { id: 'results-table' },
          h('thead', {}, h('tr', {}, h('th', {}, t('bud.funded')), h('th', {}, t('bud.kecamatan')), h('th', { class: 'num' }, t('bud.cost')))),
          h('tbody', {}, funded.map((f) => h('tr', {}, h('td', {}, f.title), h('td', {}, kecName(f.kecamatan_code)), h('td', { class: 'num' }, fmtIdr(f.estimated_cost_idr)))))),
        unfunded.length ? h('details', {}, h('summary', {}, t('bud.reason')), h('ul', { class: 'list' },
          unfunded.map((u) => h('li', {}, `${u.title}: ${label('reason', u.reason)}`)))) : null,
        h('h3', {}, t('bud.chart')),
        h('p', { class: 'muted' }, t('bud.equity', { d: pct(r.equity?.distance ?? 0) })),
        h('div', { id: 'equity-chart', role: 'img', 'aria-label': t('bud.chart') }, rows.map((k) => h('div', { style: 'margin:4px 0' },
          h('div', {}, `${kecName(k.code)} · ${fmtIdr(k.spent_idr)}`),
          h('div', { class: 'bar' }, bar(k.spent_share, VIRIDIS[2]), `${t('bud.alloc_share')} ${pct(k.spent_share)}`),
          h('div', { class: 'bar' }, bar(k.need_share, CIVIDIS[3]), `${t('bud.need_share')} ${pct(k.need_share)}`)))),
        h('div', { class: 'row' },
          h('a', { href: `/api/budget/scenarios/${s.id}?f=csv`, download: '' }, t('bud.export_csv')),
          h('a', { href: `/api/budget/scenarios/${s.id}?f=xlsx`, download: '' }, t('bud.export_xlsx'))),
        others.length ? [...field(t('bud.compare'), compareSel), h('div', { class: 'row' }, h('button', { type: 'button', id: 'compare-btn', onclick: async () => {
          try {
            const c = await get(`/api/budget/compare?a=${encodeURIComponent(compareSel.value)}&b=${encodeURIComponent(s.id)}`);
            const list = (xs) => h('ul', { class: 'list' }, (xs || []).map((x) => h('li', {}, `${x.title ?? x.id} · ${fmtIdr(x.estimated_cost_idr)}`)));
            fill(compareOut,
              h('table', {}, h('thead', {}, h('tr', {}, h('th', {}), h('th', {}, c.a.name), h('th', {}, c.b.name))),
                h('tbody', {},
                  h('tr', {}, h('td', {}, t('bud.total')), h('td', { class: 'num' }, fmtIdr(c.a.spent_idr)), h('td', { class: 'num' }, fmtIdr(c.b.spent_idr))),
                  h('tr', {}, h('td', {}, t('bud.funded')), h('td', { class: 'num' }, fmtNum(c.a.funded)), h('td', { class: 'num' }, fmtNum(c.b.funded))),
                  h('tr', {}, h('td', {}, t('bud.equity_short')), h('td', { class: 'num' }, pct(c.a.equity_distance)), h('td', { class: 'num' }, pct(c.b.equity_distance))))),
              h('h4', {}, t('bud.only_a', { name: c.a.name })), list(c.only_in_a),
              h('h4', {}, t('bud.only_b', { name: c.b.name })), list(c.only_in_b));
          } catch (e) {
            fill(compareOut, h('p', { class: 'error' }, e.message));
          }
        } }, t('bud.compare_go'))), compareOut] : null,
      );
      results.querySelector('#results-title').focus();
    }

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      msg.textContent = '';
      const params = { budget_idr: Number(budget.value), exclude_uncosted: uncosted.checked };
      if (capShare.value) {
        const cap = { cap: { share: Number(capShare.value) / 100 } };
        params.kecamatan = Object.fromEntries([...kecamatan.keys()].map((code) => [code, cap]));
      }
      try {
        // Creating a scenario solves it; the answer carries the result.
        const s = await post('/api/budget/scenarios', { name: name.value, params });
        scenarios.push({ id: s.id, name: s.name });
        name.value = `${t('bud.scenario')} ${scenarios.length + 1}`;
        showResult(s);
      } catch (e) {
        msg.textContent = e.message;
      }
    });
  },
};
