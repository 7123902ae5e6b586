// Peta Cakupan: where programs reach, for planners. Choropleth, program filters, the as-of date,
// the latest gap run's cells, and a kelurahan panel built from the OGC items endpoints.
import { get, ogcItems } from '../api.js';
import { field, h, fill, add } from '../dom.js';
import { fmtDate, fmtIdr, fmtNum, has, label, t } from '../i18n.js';
import { bbox, intersects } from '../geo.js';
import { coverageFilter } from '../map.js';
import { CIVIDIS, FACILITY_COLOURS, NO_DATA, VIRIDIS, quantileBreaks, stepClasses, stepExpression } from '../scales.js';

const PROGRAM_TYPES = ['pelatihan_pertanian', 'pelatihan_kerja', 'ukm', 'infrastruktur', 'pendampingan', 'lainnya'];
const PARTNER_TYPES = ['pemerintah', 'lsm', 'swasta', 'komunitas'];
const DAY_MS = 86400000;

// Data shared across mounts (fetched once per page load). The map draws from the vector tiles,
// so the panel asks only for the properties (skipGeometry); a kelurahan's shape and the
// coverage around it are fetched when it is chosen.
const cache = { kel: null, gap: null, cov: null, cells: null };
// What the planner chose, kept across view switches and language changes.
const state = { metric: 'low_income', programType: '', partnerType: '', date: new Date().toISOString().slice(0, 10), showCoverage: true, showCells: false, showProposals: false, showFacilities: false, selected: null };

async function load(name, collection) {
  if (!cache[name]) cache[name] = ogcItems(collection, { skipGeometry: 'true' }).catch(() => []);
  return cache[name];
}

const shapes = new Map();
/** One kelurahan's geometry (GeoJSON), or null. */
function kelurahanShape(code) {
  if (!shapes.has(code)) {
    shapes.set(code, get(`/ogc/collections/kelurahan/items/${encodeURIComponent(code)}?f=json`).then((f) => f?.geometry ?? null).catch(() => {
      shapes.delete(code);
      return null;
    }));
  }
  return shapes.get(code);
}

const around = new Map();
/** Coverage areas (with their geometry) that meet the box `b` of kelurahan `code`. */
function coverageAround(code, b) {
  if (!around.has(code)) {
    around.set(code, ogcItems('coverage', { bbox: b.map((n) => n.toFixed(6)).join(',') }).catch(() => {
      around.delete(code);
      return [];
    }));
  }
  return around.get(code);
}

/** The gap run's property names are the server's; find the ones we draw by their meaning. */
function gapKey(features, ...patterns) {
  const props = features[0]?.properties || {};
  for (const p of patterns) {
    const k = Object.keys(props).find((key) => p.test(key));
    if (k) return k;
  }
  return null;
}

function isoDay(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}


function activeOn(p, s) {
  const from = String(p.valid_from ?? '').slice(0, 10);
  const to = p.valid_to ? String(p.valid_to).slice(0, 10) : '9999-12-31';
  return from <= s.date && to >= s.date && (!s.programType || p.program_type === s.programType) && (!s.partnerType || p.partner_type === s.partnerType);
}

/** A gap component as a person reads it: fractions as %, areas in km², money in Rp. */
function gapValue(key, v) {
  if (key.endsWith('_fraction')) return `${fmtNum(v * 100, 1)}%`;
  if (key.endsWith('_m2')) return `${fmtNum(v / 1e6, 2)} km²`;
  if (key.endsWith('_idr')) return fmtIdr(v);
  return fmtNum(v, 2);
}

export default {
  id: 'cakupan',
  title: 'nav.coverage',
  async mount(app, panel) {
    const map = app.map;
    const handlers = [];
    const on = (ev, layer, fn) => { map.on(ev, layer, fn); handlers.push([ev, layer, fn]); };
    let watch = null;
    let events = null;
    let mounted = true;
    this.unmount = () => {
      mounted = false;
      clearInterval(watch);
      events?.close();
      for (const [ev, layer, fn] of handlers) map.off(ev, layer, fn);
      map.setFilter('kel-selected', ['==', ['get', 'code'], '']);
      map.setLayoutProperty('gap-cells', 'visibility', 'none');
      map.setLayoutProperty('gap-fill', 'visibility', 'none');
    };

    map.setPaintProperty('kel-line', 'line-color', '#ffffff');
    const metricSel = h('select', { name: 'metric' },
      ['low_income', 'coverage_pct', 'gap_score'].map((m) => h('option', { value: m, selected: state.metric === m }, t(`cov.metric.${m}`))));
    const progSel = h('select', { name: 'program_type' }, h('option', { value: '' }, t('cov.all')),
      PROGRAM_TYPES.map((p) => h('option', { value: p, selected: state.programType === p }, label('program', p))));
    const partSel = h('select', { name: 'partner_type' }, h('option', { value: '' }, t('cov.all')),
      PARTNER_TYPES.map((p) => h('option', { value: p, selected: state.partnerType === p }, label('partner', p))));
    const dateOut = h('output', { id: 'as-of-out' }, fmtDate(state.date));
    const slider = h('input', { type: 'range', name: 'as_of', min: '0', max: '0', step: '1', value: '0' });
    const kelSel = h('select', { name: 'kelurahan' }, h('option', { value: '' }, t('cov.click_hint')));
    const check = (key, text) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: key, checked: state[key], onchange: (e) => { state[key] = e.target.checked; restyle(); } }), text);
    const note = h('p', { class: 'muted', role: 'status' });
    const detail = h('section', { id: 'kel-detail', 'aria-live': 'polite' });

    add(panel, 
      h('h2', {}, t('cov.heading')),
      h('p', { class: 'muted' }, t('cov.intro')),
      ...field(t('cov.choropleth'), metricSel),
      ...field(t('cov.program_type'), progSel),
      ...field(t('cov.partner_type'), partSel),
      ...field(t('cov.as_of'), slider), dateOut,
      check('showCoverage', t('cov.show_coverage')),
      check('showCells', t('cov.show_cells')),
      check('showProposals', t('cov.show_proposals')),
      check('showFacilities', t('cov.show_facilities')),
      note,
      ...field(t('kel.heading', { name: '' }).trim(), kelSel),
      detail,
    );

    // Until the panel's data is here (asked after the map's first render, so that it does not
    // compete with the first screen's tiles on a slow connection), the kelurahan stay grey.
    let kel = [];
    let gap = [];
    let cov = [];
    let covKey = null;
    let covFactor = 1;
    let scoreKey = null;
    let lowIncome = [];
    let scores = [];
    const today = Date.parse(new Date().toISOString().slice(0, 10));
    let min = today - 365 * DAY_MS;
    const setSlider = () => {
      slider.value = String(Math.round((Date.parse(state.date) - min) / DAY_MS));
      dateOut.textContent = fmtDate(state.date);
      slider.setAttribute('aria-valuetext', fmtDate(state.date));
    };
    note.textContent = t('common.loading');

    async function loadData() {
      await app.drawn;
      if (!mounted) return;
      [kel, gap, cov] = await Promise.all([load('kel', 'kelurahan'), load('gap', 'gap_kelurahan'), load('cov', 'coverage')]);
      covKey = gapKey(gap, /^covered_fraction$/, /^coverage_pct$/, /cover.*(pct|percent|fraction)/);
      // Fractions (0–1) are drawn and shown as percentages.
      covFactor = covKey && /fraction/.test(covKey) ? 100 : 1;
      scoreKey = gapKey(gap, /^gap_score$/, /^score$/, /gap.*score/);
      note.textContent = gap.length === 0 ? t('cov.no_gap_run') : '';
      // The live run the map shows, its date and when it last took in a change, so nobody
      // mistakes an old picture for today's. When the server has a newer live run, redraw with it.
      const shownRun = await get('/api/analysis/gap/latest').catch(() => null);
      // The view may have been left while its data loaded: then it must not listen, nor redraw
      // whichever view is showing now.
      if (!mounted) return;
      if (gap.length > 0) {
        const asOf = gap.map((f) => f.properties.as_of).filter(Boolean).sort().pop();
        // The live run is refreshed in place: refreshed_at is when it last took in a change.
        const when = shownRun?.refreshed_at ?? shownRun?.created_at;
        const at = when ? new Date(when) : null;
        const time = at ? at.toLocaleTimeString(document.documentElement.lang === 'en' ? 'en-GB' : 'id-ID', { hour: '2-digit', minute: '2-digit' }) : '';
        if (asOf) note.textContent = t('cov.gap_as_of', { date: fmtDate(asOf), time });
      }
      // The server announces each new or refreshed live run (server-sent events), so a change
      // shows within seconds; a slow look every minute covers a proxy that drops the stream. A
      // refresh keeps the run's id and moves its changes_through.
      const redrawFor = (now) => {
        if (!mounted || !now?.id) return;
        if (now.id === shownRun?.id && now.changes_through === shownRun?.changes_through) return;
        cache.gap = null;
        cache.cells = null;
        map.sigapRefresh();
        app.rerender();
      };
      if ('EventSource' in window) {
        events = new EventSource('/api/analysis/gap/live/events');
        events.addEventListener('run', (e) => redrawFor(JSON.parse(e.data)));
      }
      watch = setInterval(async () => redrawFor(await get('/api/analysis/gap/latest').catch(() => null)), 60000);

      // The slider runs from the earliest program start to the latest end (or today).
      const starts = cov.map((f) => Date.parse(f.properties.valid_from)).filter(Number.isFinite);
      const ends = cov.map((f) => Date.parse(f.properties.valid_to)).filter(Number.isFinite);
      if (starts.length) min = Math.min(...starts);
      const max = Math.max(today, ...ends);
      slider.max = String(Math.round((max - min) / DAY_MS));
      setSlider();

      for (const f of [...kel].sort((x, y) => String(x.properties.name).localeCompare(String(y.properties.name)))) {
        kelSel.append(h('option', { value: f.properties.code }, `${f.properties.name} (${f.properties.kecamatan_name ?? ''})`));
      }
      lowIncome = kel.map((f) => Number(f.properties.low_income_households));
      scores = gap.map((f) => Number(f.properties[scoreKey]));
      restyle();
    }

    async function cellsStyle() {
      const cells = await load('cells', 'gap_cells');
      const k = gapKey(cells, /^gap_score$/, /^score$/, /gap.*score/);
      if (!k) return;
      const br = quantileBreaks(cells.map((f) => Number(f.properties[k])), 5);
      map.setPaintProperty('gap-cells', 'fill-color', stepExpression(k, br, VIRIDIS));
    }

    function restyle() {
      const legend = [];
      let classes;
      let colours = VIRIDIS;
      if (state.metric === 'low_income') {
        const br = quantileBreaks(lowIncome, 5);
        map.setPaintProperty('kel-fill', 'fill-color', kel.length ? stepExpression('low_income_households', br, VIRIDIS) : NO_DATA);
        map.setLayoutProperty('gap-fill', 'visibility', 'none');
        const finite = lowIncome.filter(Number.isFinite);
        classes = finite.length ? stepClasses(br, VIRIDIS, Math.min(...finite), Math.max(...finite)) : [];
      } else {
        const key = state.metric === 'coverage_pct' ? covKey : scoreKey;
        colours = state.metric === 'coverage_pct' ? CIVIDIS : VIRIDIS;
        const br = state.metric === 'coverage_pct' ? [20, 40, 60, 80] : quantileBreaks(scores, 5);
        map.setPaintProperty('kel-fill', 'fill-color', NO_DATA);
        const factor = state.metric === 'coverage_pct' ? covFactor : 1;
        if (key) map.setPaintProperty('gap-fill', 'fill-color', stepExpression(key, br, colours, factor));
        map.setLayoutProperty('gap-fill', 'visibility', key ? 'visible' : 'none');
        const vals = gap.map((f) => Number(f.properties[key]) * factor).filter(Number.isFinite);
        classes = key && vals.length ? stepClasses(br, colours, state.metric === 'coverage_pct' ? 0 : Math.min(...vals), state.metric === 'coverage_pct' ? 100 : Math.max(...vals)) : [];
      }
      legend.push({
        title: t(`cov.metric.${state.metric}`),
        items: [...classes.map((c) => ({ colour: c.colour, text: `${fmtNum(c.from)} – ${fmtNum(c.to)}` })), { colour: NO_DATA, text: t('legend.no_data') }],
      });
      const filter = coverageFilter(state);
      map.setFilter('coverage-fill', filter);
      map.setFilter('coverage-line', filter);
      for (const id of ['coverage-fill', 'coverage-line']) map.setLayoutProperty(id, 'visibility', state.showCoverage ? 'visible' : 'none');
      map.setLayoutProperty('gap-cells', 'visibility', state.showCells ? 'visible' : 'none');
      map.setLayoutProperty('proposals', 'visibility', state.showProposals ? 'visible' : 'none');
      map.setLayoutProperty('facilities', 'visibility', state.showFacilities ? 'visible' : 'none');
      if (state.showCells) cellsStyle();
      const lines = [{ colour: '#222222', text: t('legend.kecamatan'), kind: 'line' }, { colour: '#ffffff', text: t('legend.kelurahan'), kind: 'wline' }];
      if (state.showCoverage) lines.push({ colour: '#555555', text: t('legend.coverage_area'), kind: 'dash' });
      if (state.showCells) lines.push({ colour: VIRIDIS[4], text: t('legend.gap_cells') });
      legend.push({ items: lines });
      if (state.showFacilities) {
        legend.push({
          title: t('legend.facilities'),
          items: Object.entries(FACILITY_COLOURS).map(([k, colour]) => ({ colour, text: t(`facility.${k}`), kind: 'dot' })),
        });
      }
      app.setLegend(legend);
      if (state.selected) showKelurahan(state.selected, false);
    }

    metricSel.addEventListener('change', () => { state.metric = metricSel.value; restyle(); });
    progSel.addEventListener('change', () => { state.programType = progSel.value; restyle(); });
    partSel.addEventListener('change', () => { state.partnerType = partSel.value; restyle(); });
    slider.addEventListener('input', () => { state.date = isoDay(min + Number(slider.value) * DAY_MS); setSlider(); restyle(); });
    kelSel.addEventListener('change', () => kelSel.value && showKelurahan(kelSel.value, true));

    async function showKelurahan(code, fly) {
      state.selected = code;
      kelSel.value = code;
      map.setFilter('kel-selected', ['==', ['get', 'code'], code]);
      await dataReady;
      if (state.selected !== code || !mounted) return;
      const k = kel.find((f) => f.properties.code === code);
      if (!k) return;
      // The shape (the list has none), then the programs whose areas reach it.
      const shape = await kelurahanShape(code);
      if (state.selected !== code || !mounted) return;
      const b = shape ? bbox(shape) : null;
      if (fly && b) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 40, maxZoom: 14, duration: 600 });
      const near = b ? await coverageAround(code, b) : [];
      if (state.selected !== code || !mounted) return;
      const p = k.properties;
      const g = gap.find((f) => (f.properties.code ?? f.properties.kelurahan_code ?? f.id) === code)?.properties;
      const reaching = near.filter((f) => activeOn(f.properties, state) && intersects(f.geometry, shape));
      fill(detail, 
        h('h3', { tabindex: '-1', id: 'kel-title' }, t('kel.heading', { name: p.name })),
        h('p', { class: 'muted' }, `${t('kel.kecamatan')} ${p.kecamatan_name ?? ''} · ${t('kel.code')} ${p.code}`),
        // The printable profile for Musrenbang (server-rendered page and its PDF).
        h('p', {}, h('a', { href: `/profil/kelurahan/${encodeURIComponent(p.code)}`, target: '_blank', id: 'kel-profile' }, t('kel.profile')),
          ' · ', h('a', { href: `/profil/kelurahan/${encodeURIComponent(p.code)}.pdf`, target: '_blank' }, 'PDF')),
        // Its residents' proposals as Atom feeds (new ones and status changes), no account needed.
        h('p', { class: 'feeds' },
          h('a', { href: `/feeds/kelurahan/${encodeURIComponent(p.code)}.atom`, type: 'application/atom+xml', id: 'kel-feed' }, t('feed.kelurahan', { name: p.name })),
          p.kecamatan_code ? [' · ', h('a', { href: `/feeds/kecamatan/${encodeURIComponent(p.kecamatan_code)}.atom`, type: 'application/atom+xml', id: 'kec-feed' }, t('feed.kecamatan', { name: p.kecamatan_name ?? p.kecamatan_code }))] : null,
          h('br'), h('small', { class: 'muted' }, t('feed.help'))),
        h('h3', {}, t('kel.indicators')),
        h('dl', { class: 'kv' },
          h('dt', {}, t('kel.population')), h('dd', {}, fmtNum(p.population)),
          h('dt', {}, t('kel.households')), h('dd', {}, fmtNum(p.households)),
          h('dt', {}, t('kel.low_income_households')), h('dd', {}, fmtNum(p.low_income_households)),
          h('dt', {}, t('kel.area_km2')), h('dd', {}, fmtNum(p.area_km2, 2))),
        p.households_year ? h('p', { class: 'muted' }, t('kel.year', { year: p.households_year })) : null,
        h('h3', {}, t('kel.programs')),
        reaching.length === 0 ? h('p', { class: 'muted' }, t('kel.no_programs'))
          : h('ul', { class: 'list' }, reaching.map((f) => {
            const c = f.properties;
            return h('li', {}, h('strong', {}, c.program_name ?? c.program_code), ` · ${label('program', c.program_type)}`, h('br'),
              `${c.partner_name ?? c.partner_code} (${label('partner', c.partner_type)}) · `,
              t('kel.period', { from: fmtDate(c.valid_from), to: c.valid_to ? fmtDate(c.valid_to) : t('kel.open_ended') }));
          })),
        h('h3', {}, t('kel.gap')),
        g ? h('dl', { class: 'kv' }, Object.entries(g)
          .filter(([key, v]) => typeof v === 'number' && key !== 'code')
          .flatMap(([key, v]) => [h('dt', {}, has(`gap.${key}`) ? t(`gap.${key}`) : key.replaceAll('_', ' ')), h('dd', {}, gapValue(key, v))]))
          : h('p', { class: 'muted' }, t('kel.no_gap')),
        h('h3', {}, t('kel.proposals')),
        h('div', { id: 'kel-proposals' }, t('common.loading')),
      );
      if (fly) detail.querySelector('#kel-title').focus();
      const props = await ogcItems('proposals', { kelurahan_code: code }).catch(() => []);
      const mine = props.filter((f) => f.properties.kelurahan_code === code);
      const box = detail.querySelector('#kel-proposals');
      if (!box) return;
      fill(box, mine.length === 0 ? h('p', { class: 'muted' }, t('kel.no_proposals'))
        : h('ul', { class: 'list' }, mine.map((f) => h('li', {}, h('strong', {}, f.properties.title), h('br'),
          `${label('status', f.properties.status)} · ${label('category', f.properties.category)} · ${t('prop.supports', { n: fmtNum(f.properties.support_count ?? 0) })}`))));
    }

    on('click', 'kel-fill', (e) => {
      const code = e.features?.[0]?.properties?.code;
      if (code) showKelurahan(code, false);
    });
    on('mouseenter', 'kel-fill', () => { map.getCanvas().style.cursor = 'pointer'; });
    on('mouseleave', 'kel-fill', () => { map.getCanvas().style.cursor = ''; });
    const dataReady = loadData();
    setSlider();
    restyle();
    // Exposed for tests and for the budget view, which reuses the lookup.
    app.showKelurahan = showKelurahan;
  },
};
