// Colour scales that colour-blind readers can tell apart: viridis and cividis (5 classes) for
// quantities, Okabe–Ito for proposal statuses.

export const VIRIDIS = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'];
export const CIVIDIS = ['#00224e', '#414d6b', '#7c7b78', '#bcaf6f', '#fee838'];
export const NO_DATA = '#d9d9d9';

export const STATUS_COLOURS = {
  diajukan: '#999999',
  diverifikasi: '#0072B2',
  diprioritaskan: '#56B4E9',
  dianggarkan: '#E69F00',
  dikerjakan: '#D55E00',
  selesai: '#009E73',
  ditolak: '#000000',
  digabung: '#CC79A7',
};

/** Class breaks: quantiles of `values`, deduplicated, at most `colours.length - 1` of them. */
export function quantileBreaks(values, classes) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return [];
  const out = [];
  for (let i = 1; i < classes; i++) {
    const b = v[Math.min(v.length - 1, Math.floor((i * v.length) / classes))];
    if (!out.includes(b) && b > v[0]) out.push(b);
  }
  return out;
}

/** A MapLibre `step` colour expression over property `prop` (times `factor`), grey where it is missing. */
export function stepExpression(prop, breaks, colours, factor = 1) {
  const value = ['*', ['to-number', ['get', prop]], factor];
  if (breaks.length === 0) return ['case', ['has', prop], colours[Math.floor(colours.length / 2)], NO_DATA];
  const step = ['step', value, colours[0]];
  breaks.forEach((b, i) => step.push(b, colours[Math.round(((i + 1) * (colours.length - 1)) / breaks.length)]));
  return ['case', ['has', prop], step, NO_DATA];
}

/** Legend rows for the same classes: [{colour, from, to}]. */
export function stepClasses(breaks, colours, min, max) {
  const edges = [min, ...breaks, max];
  return edges.slice(0, -1).map((from, i) => ({
    colour: breaks.length === 0 ? colours[Math.floor(colours.length / 2)] : colours[Math.round((i * (colours.length - 1)) / breaks.length)],
    from,
    to: edges[i + 1],
  }));
}

/** Facility categories (OpenStreetMap reference layer), distinct from the status colours. */
export const FACILITY_COLOURS = {
  puskesmas: '#d62728',
  hospital: '#9467bd',
  clinic: '#e377c2',
  school: '#1f77b4',
  university: '#17becf',
};
