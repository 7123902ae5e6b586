// Program Mitra: a partner's own workspace (planners and admins pick any partner). Programs listed
// and edited; coverage drawn on the map (click to add vertices), placed as a site with a radius,
// or uploaded as a file that the server checks feature by feature before the partner confirms;
// the dates of a coverage period edited; progress reports entered; reach against plan; and, for
// planners, the follow-up ("tindak lanjut") list. docs/partners.md describes the API behind it.
import { get, request, ogcItems } from '../api.js';
import { clear, field, h, fill, add } from '../dom.js';
import { fmtDate, fmtNum, label, t } from '../i18n.js';

const PROGRAM_TYPES = ['pelatihan_pertanian', 'pelatihan_kerja', 'ukm', 'infrastruktur', 'pendampingan', 'lainnya'];
const DRAW_COLOUR = '#D55E00';
const COVER_COLOUR = '#0072B2';
const EMPTY = { type: 'FeatureCollection', features: [] };

// Kept across view switches.
const state = { partner: '', program: '' };
let kelurahanList = null;

const patch = (p, b) => request('PATCH', p, b);
const postJson = (p, b) => request('POST', p, b);

/** Adds this view's sources and layers once: the program's coverage, and the outline being drawn. */
function ensureLayers(map) {
  if (map.getSource('mitra-cov')) return;
  map.addSource('mitra-cov', { type: 'geojson', data: EMPTY });
  map.addSource('mitra-draw', { type: 'geojson', data: EMPTY });
  map.addLayer({ id: 'mitra-cov-fill', type: 'fill', source: 'mitra-cov', paint: { 'fill-color': COVER_COLOUR, 'fill-opacity': 0.25 } });
  map.addLayer({ id: 'mitra-cov-line', type: 'line', source: 'mitra-cov', paint: { 'line-color': COVER_COLOUR, 'line-width': 2 } });
  map.addLayer({ id: 'mitra-draw-fill', type: 'fill', source: 'mitra-draw', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': DRAW_COLOUR, 'fill-opacity': 0.2 } });
  map.addLayer({ id: 'mitra-draw-line', type: 'line', source: 'mitra-draw', paint: { 'line-color': DRAW_COLOUR, 'line-width': 2, 'line-dasharray': [2, 1] } });
  map.addLayer({ id: 'mitra-draw-pts', type: 'circle', source: 'mitra-draw', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': 5, 'circle-color': DRAW_COLOUR, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 } });
}

/** A circle of `radiusM` metres around a lon/lat point, as a polygon ring (for the preview only). */
function circle([lon, lat], radiusM, steps = 48) {
  const ring = [];
  const dLat = radiusM / 111320;
  const dLon = radiusM / (111320 * Math.cos((lat * Math.PI) / 180));
  for (let i = 0; i <= steps; i++) {
    const a = (i / steps) * 2 * Math.PI;
    ring.push([lon + dLon * Math.cos(a), lat + dLat * Math.sin(a)]);
  }
  return ring;
}

function slugOf(s) {
  return String(s || '').toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48);
}

function pct(ratio) {
  return ratio === null || ratio === undefined ? t('mitra.no_plan') : `${fmtNum(ratio * 100, 1)}%`;
}

/** A reach bar: a filled share of a fixed track, with the figure written beside it. */
function reachBar(ratio) {
  const w = Math.max(0, Math.min(1, ratio ?? 0)) * 100;
  return h('span', { class: 'reach' }, h('span', { class: 'reach-track' }, h('span', { class: 'reach-fill', style: `width:${w}%` })), ' ', pct(ratio));
}

export default {
  id: 'mitra',
  title: 'nav.partners',
  roles: ['mitra', 'planner'],
  async mount(app, panel) {
    const map = app.map;
    map.neutral();
    ensureLayers(map);
    app.setLegend([{ title: t('mitra.heading'), items: [
      { colour: COVER_COLOUR, text: t('mitra.legend_coverage') },
      { colour: DRAW_COLOUR, text: t('mitra.legend_drawing') }] }]);

    const reviewer = app.hasRole('planner');
    const own = app.user?.partner_code || '';
    if (!reviewer) state.partner = own;

    // Drawing: map clicks add vertices (polygon) or place the site (site + radius).
    let mode = null;
    let vertices = [];
    let site = null;
    const onClick = (e) => {
      if (!mode) return;
      const at = [Number(e.lngLat.lng.toFixed(6)), Number(e.lngLat.lat.toFixed(6))];
      if (mode === 'polygon') vertices.push(at);
      else site = at;
      drawPreview();
    };
    map.on('click', onClick);
    const setCursor = () => { map.getCanvas().style.cursor = mode ? 'crosshair' : ''; };
    this.unmount = () => {
      map.off('click', onClick);
      mode = null;
      setCursor();
      map.getSource('mitra-cov')?.setData(EMPTY);
      map.getSource('mitra-draw')?.setData(EMPTY);
    };

    const partnerSel = h('select', { name: 'partner', id: 'mitra-partner' });
    const programList = h('ul', { class: 'list', id: 'mitra-programs' });
    const programForm = h('section', { id: 'mitra-program-form' });
    const coverage = h('section', { id: 'mitra-coverage' });
    const progress = h('section', { id: 'mitra-progress' });
    const reach = h('section', { id: 'mitra-reach' });
    const followup = h('section', { id: 'mitra-followup' });
    const msg = h('p', { role: 'status', id: 'mitra-msg' });
    const say = (text, ok = true) => { msg.textContent = text; msg.className = ok ? 'ok' : 'error'; };

    const profileIn = h('input', { name: 'profile_code', id: 'profile-code', placeholder: '32.73.01.1001' });
    add(panel,
      h('h2', {}, t('mitra.heading')),
      h('p', { class: 'muted' }, t('mitra.intro')),
      reviewer ? field(t('mitra.partner'), partnerSel) : h('p', {}, t('mitra.your_partner', { code: own })),
      msg,
      h('h3', {}, t('mitra.programs')),
      programList,
      h('div', { class: 'row' }, h('button', { type: 'button', id: 'mitra-new-program', onclick: () => editProgram(null) }, t('mitra.new_program'))),
      programForm, coverage, progress, reach,
      reviewer ? followup : null,
      h('h3', {}, t('mitra.profile')),
      ...field(t('mitra.profile_code'), profileIn),
      h('div', { class: 'row' },
        h('button', { type: 'button', id: 'profile-open', onclick: () => {
          const code = profileIn.value.trim();
          if (code) window.open(`/profil/${code.length > 8 ? 'kelurahan' : 'kecamatan'}/${encodeURIComponent(code)}`, '_blank');
        } }, t('mitra.profile_open'))),
    );

    if (reviewer) {
      const partners = (await get('/api/partners').catch(() => ({ partners: [] }))).partners || [];
      if (!state.partner && partners[0]) state.partner = partners[0].code;
      add(partnerSel, partners.map((p) => h('option', { value: p.code, selected: p.code === state.partner }, `${p.name} (${p.code})${p.trusted ? '' : ` · ${t('mitra.untrusted')}`}`)));
      partnerSel.addEventListener('change', () => { state.partner = partnerSel.value; state.program = ''; loadAll(); });
    }

    async function loadPrograms() {
      clear(programList);
      if (!state.partner) return [];
      const { programs = [] } = await get(`/api/programs?partner=${encodeURIComponent(state.partner)}`).catch((e) => { say(e.message, false); return {}; });
      if (programs.length === 0) add(programList, h('li', { class: 'muted' }, t('mitra.no_programs')));
      for (const p of programs) {
        add(programList, h('li', { class: p.code === state.program ? 'selected' : null },
          h('button', { type: 'button', class: 'link', dataset: { code: p.code }, onclick: () => { state.program = p.code; loadAll(); } }, p.name),
          ' ', h('span', { class: p.approved ? 'badge' : 'badge pending' }, p.approved ? t('mitra.approved') : t('mitra.pending')),
          h('br'),
          h('span', { class: 'muted' }, `${label('program', p.type)} · ${fmtDate(p.start_date)} – ${fmtDate(p.end_date)} · ${t('mitra.planned')}: ${p.planned_beneficiaries ?? '–'}`),
          ' ', h('button', { type: 'button', class: 'link', dataset: { edit: p.code }, onclick: () => editProgram(p) }, t('mitra.edit'))));
      }
      return programs;
    }

    function editProgram(p) {
      const inp = (name, attrs = {}) => h('input', { name, value: p?.[name] ?? '', ...attrs });
      const code = inp('code', { required: true, disabled: !!p, pattern: '[a-z0-9][a-z0-9_\\-]*' });
      const name = inp('name', { required: true });
      const type = h('select', { name: 'type' }, PROGRAM_TYPES.map((x) => h('option', { value: x, selected: p?.type === x }, label('program', x))));
      const start = inp('start_date', { type: 'date', required: true });
      const end = inp('end_date', { type: 'date', required: true });
      const planned = inp('planned_beneficiaries', { type: 'number', min: '0' });
      const target = inp('target_group');
      const err = h('p', { class: 'error', role: 'alert' });
      name.addEventListener('input', () => { if (!p && !code.dataset.touched) code.value = slugOf(name.value); });
      code.addEventListener('input', () => { code.dataset.touched = '1'; });
      const form = h('form', { id: 'program-form', onsubmit: async (ev) => {
        ev.preventDefault();
        const body = { name: name.value.trim(), type: type.value, start_date: start.value, end_date: end.value,
          planned_beneficiaries: planned.value === '' ? null : Number(planned.value), target_group: target.value.trim() || null };
        try {
          if (p) await patch(`/api/programs/${encodeURIComponent(p.code)}`, body);
          else await postJson('/api/programs', { ...body, code: code.value.trim(), partner_code: state.partner });
          state.program = p ? p.code : code.value.trim();
          clear(programForm);
          say(t('mitra.saved'));
          await loadAll();
        } catch (e) { err.textContent = e.message; }
      } },
      h('h3', {}, p ? t('mitra.edit_program') : t('mitra.new_program')),
      ...field(t('mitra.code'), code), ...field(t('mitra.name'), name), ...field(t('mitra.type'), type),
      ...field(t('mitra.start'), start), ...field(t('mitra.end'), end), ...field(t('mitra.planned'), planned),
      ...field(t('mitra.target_group'), target), err,
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'program-save' }, t('mitra.save')),
        h('button', { type: 'button', onclick: () => clear(programForm) }, t('mitra.cancel'))));
      fill(programForm, form);
      name.focus();
    }

    function drawPreview() {
      const feats = [];
      if (mode === 'polygon') {
        for (const v of vertices) feats.push({ type: 'Feature', geometry: { type: 'Point', coordinates: v }, properties: {} });
        if (vertices.length >= 3) feats.push({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [[...vertices, vertices[0]]] }, properties: {} });
        else if (vertices.length === 2) feats.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: vertices }, properties: {} });
      } else if (mode === 'site' && site) {
        feats.push({ type: 'Feature', geometry: { type: 'Point', coordinates: site }, properties: {} });
        const r = Number(coverage.querySelector('[name=radius_m]')?.value || 0);
        if (r > 0) feats.push({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [circle(site, r)] }, properties: {} });
      }
      map.getSource('mitra-draw').setData({ type: 'FeatureCollection', features: feats });
      const count = coverage.querySelector('#draw-count');
      if (count) count.textContent = mode === 'polygon' ? t('mitra.vertices', { n: vertices.length }) : (site ? t('mitra.site_placed') : t('mitra.click_site'));
    }

    async function loadCoverage(program) {
      clear(coverage);
      if (!program) return;
      const fc = await get(`/api/coverage?program=${encodeURIComponent(program.code)}`).catch(() => EMPTY);
      map.getSource('mitra-cov').setData(fc);
      const feats = fc.features || [];
      if (feats.length) {
        const b = feats.flatMap((f) => f.geometry.coordinates.flat(2));
        const xs = b.map((c) => c[0]);
        const ys = b.map((c) => c[1]);
        map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { padding: 60, duration: 0, maxZoom: 15 });
      }
      const list = h('ul', { class: 'list', id: 'coverage-list' });
      for (const f of feats) {
        const p = f.properties;
        const from = h('input', { type: 'date', name: 'valid_from', value: p.valid_from });
        const to = h('input', { type: 'date', name: 'valid_to', value: p.valid_to });
        const err = h('span', { class: 'error', role: 'alert' });
        add(list, h('li', { dataset: { code: p.code } },
          h('strong', {}, p.code), ' ', h('span', { class: p.approved ? 'badge' : 'badge pending' }, p.approved ? t('mitra.approved') : t('mitra.pending')),
          h('br'), h('span', { class: 'muted' }, `${fmtNum(p.area_km2, 2)} km²${p.radius_m ? ` · ${t('mitra.radius')}: ${fmtNum(p.radius_m)} m` : ''}`),
          h('div', { class: 'row dates' }, ...field(t('mitra.valid_from'), from), ...field(t('mitra.valid_to'), to),
            h('button', { type: 'button', class: 'save-dates', onclick: async () => {
              try {
                await patch(`/api/coverage/${encodeURIComponent(p.code)}`, { valid_from: from.value, valid_to: to.value });
                say(t('mitra.saved'));
                await loadCoverage(program);
              } catch (e) { err.textContent = e.message; }
            } }, t('mitra.save_dates'))), err));
      }
      if (feats.length === 0) add(list, h('li', { class: 'muted' }, t('mitra.no_coverage')));

      // New coverage: draw, site + radius, or a file.
      const codeIn = h('input', { name: 'coverage_code', id: 'cov-code', value: `${program.code}-${feats.length + 1}` });
      const radiusIn = h('input', { name: 'radius_m', type: 'number', min: '1', max: '50000', value: '500', oninput: drawPreview });
      const drawErr = h('p', { class: 'error', role: 'alert', id: 'draw-error' });
      const start = (m) => { mode = m; vertices = []; site = null; drawErr.textContent = ''; setCursor(); drawPreview(); drawBox.hidden = false; radiusRow.hidden = m !== 'site'; };
      const stop = () => { mode = null; vertices = []; site = null; setCursor(); drawPreview(); drawBox.hidden = true; };
      const radiusRow = h('div', {}, ...field(t('mitra.radius_m'), radiusIn));
      const drawBox = h('div', { id: 'draw-box', hidden: true },
        h('p', { class: 'muted', id: 'draw-count' }),
        ...field(t('mitra.coverage_code'), codeIn), radiusRow, drawErr,
        h('div', { class: 'row' },
          h('button', { type: 'button', id: 'draw-undo', onclick: () => { vertices.pop(); drawPreview(); } }, t('mitra.undo')),
          h('button', { type: 'button', class: 'primary', id: 'draw-save', onclick: async () => {
            const body = { code: codeIn.value.trim(), program_code: program.code };
            if (mode === 'polygon') {
              if (vertices.length < 3) { drawErr.textContent = t('mitra.need_three'); return; }
              body.geometry = { type: 'Polygon', coordinates: [[...vertices, vertices[0]]] };
            } else {
              if (!site) { drawErr.textContent = t('mitra.click_site'); return; }
              body.site = { type: 'Point', coordinates: site };
              body.radius_m = Number(radiusIn.value);
            }
            try {
              const made = await postJson('/api/coverage', body);
              stop();
              say(made.repaired ? t('mitra.saved_repaired') : t('mitra.saved'));
              map.sigapRefresh();
              await loadCoverage(program);
            } catch (e) { drawErr.textContent = e.message; }
          } }, t('mitra.save')),
          h('button', { type: 'button', id: 'draw-cancel', onclick: stop }, t('mitra.cancel'))));

      const fileIn = h('input', { type: 'file', name: 'file', id: 'upload-file', accept: '.geojson,.json,.gpkg,.zip,.kml' });
      const report = h('div', { id: 'upload-report', 'aria-live': 'polite' });
      const send = async (confirm) => {
        const file = fileIn.files?.[0];
        if (!file) { fill(report, h('p', { class: 'error' }, t('mitra.choose_file'))); return; }
        const form = new FormData();
        form.append('file', file, file.name);
        try {
          const r = await request('POST', `/api/coverage/upload?program=${encodeURIComponent(program.code)}&confirm=${confirm}`, form);
          showReport(r, confirm);
          if (confirm) { map.sigapRefresh(); await loadCoverage(program); add(coverage.querySelector('#upload-report'), h('p', { class: 'ok', id: 'upload-done' }, t('mitra.upload_done', { n: r.loaded }))); }
        } catch (e) { fill(report, h('p', { class: 'error' }, e.message)); }
      };
      const showReport = (r, confirmed) => {
        fill(report,
          h('p', { id: 'upload-summary' }, t('mitra.upload_summary', { read: r.read, loaded: r.loaded, rejected: r.rejected.length, repaired: r.repaired.length })),
          r.rejected.length ? h('table', { class: 'report' }, h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, t('mitra.reason')))),
            h('tbody', {}, r.rejected.map((x) => h('tr', { class: 'rejected' }, h('td', {}, String(x.index)), h('td', {}, x.reason))))) : null,
          r.repaired.length ? h('ul', { class: 'list' }, r.repaired.map((x) => h('li', {}, `${x.index}: ${x.reason}`))) : null,
          !confirmed && r.loaded > 0 ? h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', id: 'upload-confirm', onclick: () => send(true) }, t('mitra.upload_confirm', { n: r.loaded }))) : null);
      };

      add(coverage,
        h('h3', {}, t('mitra.coverage_of', { name: program.name })),
        list,
        h('div', { class: 'row' },
          h('button', { type: 'button', id: 'draw-start', onclick: () => start('polygon') }, t('mitra.draw')),
          h('button', { type: 'button', id: 'site-start', onclick: () => start('site') }, t('mitra.site'))),
        drawBox,
        h('h3', {}, t('mitra.upload')),
        h('p', { class: 'muted' }, t('mitra.upload_hint')),
        ...field(t('mitra.file'), fileIn),
        h('div', { class: 'row' }, h('button', { type: 'button', id: 'upload-check', onclick: () => send(false) }, t('mitra.upload_check'))),
        report);
    }

    async function loadProgress(program) {
      clear(progress);
      if (!program) return;
      if (!kelurahanList) kelurahanList = ogcItems('kelurahan', { skipGeometry: 'true' }).then((fs) => fs.map((f) => f.properties).sort((a, b) => a.code.localeCompare(b.code))).catch(() => []);
      const kel = await kelurahanList;
      const num = (name, required) => h('input', { type: 'number', name, min: '0', step: '1', required, value: required ? '' : '0' });
      const kelSel = h('select', { name: 'kelurahan_code', required: true }, kel.map((k) => h('option', { value: k.code }, `${k.name} (${k.code})`)));
      const period = h('select', { name: 'period' }, h('option', { value: 'month' }, t('mitra.month')), h('option', { value: 'quarter' }, t('mitra.quarter')));
      const today = new Date().toISOString().slice(0, 7);
      const month = h('input', { type: 'month', name: 'period_month', value: today, max: today, required: true });
      const fields = { participants: num('participants', true), participants_women: num('participants_women'), ukm_assisted: num('ukm_assisted'), ukm_women_led: num('ukm_women_led'), mentoring_sessions: num('mentoring_sessions') };
      const note = h('textarea', { name: 'note', rows: '2', maxlength: '2000' });
      const err = h('p', { class: 'error', role: 'alert', id: 'progress-error' });
      const list = h('ul', { class: 'list', id: 'progress-list' });
      const form = h('form', { id: 'progress-form', onsubmit: async (ev) => {
        ev.preventDefault();
        // The first day of the month, or of the quarter around it.
        let [y, m] = month.value.split('-').map(Number);
        if (period.value === 'quarter') m = Math.floor((m - 1) / 3) * 3 + 1;
        const body = { program_code: program.code, kelurahan_code: kelSel.value, period: period.value, period_start: `${y}-${String(m).padStart(2, '0')}-01`, note: note.value.trim() || null };
        for (const [k, inp] of Object.entries(fields)) body[k] = Number(inp.value || 0);
        try {
          await postJson('/api/progress', body);
          err.textContent = '';
          say(t('mitra.report_saved'));
          await loadProgress(program);
          await loadReach();
        } catch (e) { err.textContent = e.message; }
      } },
      ...field(t('mitra.kelurahan'), kelSel), ...field(t('mitra.period'), period), ...field(t('mitra.period_month'), month),
      ...field(t('mitra.participants'), fields.participants), ...field(t('mitra.participants_women'), fields.participants_women),
      ...field(t('mitra.ukm_assisted'), fields.ukm_assisted), ...field(t('mitra.ukm_women_led'), fields.ukm_women_led),
      ...field(t('mitra.mentoring_sessions'), fields.mentoring_sessions), ...field(t('mitra.note'), note),
      h('p', { class: 'muted' }, t('mitra.no_names')), err,
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'progress-save' }, t('mitra.save_report'))));
      const { reports = [] } = await get(`/api/progress?program=${encodeURIComponent(program.code)}`).catch(() => ({}));
      for (const r of reports) {
        add(list, h('li', { dataset: { id: r.id } }, `${r.kelurahan_name} · ${label('mitra', r.period)} ${fmtDate(r.period_start)}: `,
          t('mitra.report_line', { p: fmtNum(r.participants), w: fmtNum(r.participants_women), u: fmtNum(r.ukm_assisted), s: fmtNum(r.mentoring_sessions) })));
      }
      if (reports.length === 0) add(list, h('li', { class: 'muted' }, t('mitra.no_reports')));
      add(progress, h('h3', {}, t('mitra.progress')), form, h('h3', {}, t('mitra.reports')), list);
    }

    async function loadReach() {
      clear(reach);
      if (!state.partner) return;
      const r = await get(`/api/partners/${encodeURIComponent(state.partner)}/reach`).catch(() => null);
      if (!r) return;
      add(reach, h('h3', {}, t('mitra.reach')),
        h('p', { id: 'reach-total' }, t('mitra.reach_total', { p: fmtNum(r.participants_of_planned_programs ?? r.participants), plan: fmtNum(r.planned_beneficiaries ?? 0) }), ' ', reachBar(r.reach_ratio)),
        h('p', { class: 'muted' }, t('mitra.reach_more', { w: fmtNum(r.participants_women), u: fmtNum(r.ukm_assisted), s: fmtNum(r.mentoring_sessions) })),
        h('table', { class: 'report', id: 'reach-table' }, h('thead', {}, h('tr', {}, h('th', {}, t('mitra.program')), h('th', {}, t('mitra.planned')), h('th', {}, t('mitra.participants')), h('th', {}, t('mitra.reach_ratio')))),
          h('tbody', {}, (r.programs || []).map((p) => h('tr', {}, h('td', {}, p.program_name), h('td', { class: 'n' }, p.planned_beneficiaries ?? '–'), h('td', { class: 'n' }, fmtNum(p.participants)), h('td', {}, reachBar(p.reach_ratio)))))));
    }

    async function loadFollowup() {
      clear(followup);
      if (!reviewer) return;
      const f = await get('/api/followup').catch(() => null);
      const rows = f?.programs || [];
      add(followup, h('h3', {}, t('mitra.followup')), h('p', { class: 'muted' }, t('mitra.followup_intro', { months: f?.months ?? 6 })),
        rows.length === 0 ? h('p', { class: 'muted' }, t('mitra.followup_none')) : h('ul', { class: 'list', id: 'followup-list' }, rows.map((r) => h('li', {},
          h('strong', {}, r.program_name), ` · ${r.partner_name}`, r.overdue ? h('span', { class: 'badge pending' }, t('mitra.overdue')) : null, h('br'),
          h('span', { class: 'muted' }, `${t('mitra.ended')} ${fmtDate(r.end_date)} · ${t('mitra.window_closes')} ${fmtDate(r.window_closes)} · ${(r.kelurahan || []).map((k) => k.kelurahan_name).join(', ')}`), h('br'),
          h('span', {}, `${t('mitra.contact')}: ${[r.contact_name, r.contact_phone, r.contact_email].filter(Boolean).join(' · ') || '–'}`)))));
    }

    async function loadAll() {
      const programs = await loadPrograms();
      const program = programs.find((p) => p.code === state.program) || null;
      if (!program) map.getSource('mitra-cov').setData(EMPTY);
      await Promise.all([loadCoverage(program), loadProgress(program), loadReach()]);
    }

    await Promise.all([loadAll(), loadFollowup()]);
  },
};
