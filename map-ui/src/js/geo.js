// Just enough planar geometry for the panel: does a coverage area reach a kelurahan? The server's
// gap analysis measures areas properly in an equal-area CRS (ESRI:54034); here we only need yes or no.

function polygons(g) {
  if (!g) return [];
  if (g.type === 'Polygon') return [g.coordinates];
  if (g.type === 'MultiPolygon') return g.coordinates;
  return [];
}

function inRing(pt, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > pt[1] !== yj > pt[1] && pt[0] < ((xj - xi) * (pt[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function pointInGeometry(pt, g) {
  return polygons(g).some((poly) => inRing(pt, poly[0]) && !poly.slice(1).some((hole) => inRing(pt, hole)));
}

export function bbox(g) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  for (const poly of polygons(g)) for (const [x, y] of poly[0]) {
    b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y); b[2] = Math.max(b[2], x); b[3] = Math.max(b[3], y);
  }
  return b;
}

function segmentsCross(p1, p2, p3, p4) {
  const d = (a, b, c) => (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
  const d1 = d(p3, p4, p1), d2 = d(p3, p4, p2), d3 = d(p1, p2, p3), d4 = d(p1, p2, p4);
  return d1 * d2 < 0 && d3 * d4 < 0;
}

/** Whether two (multi)polygons share any area, boundaries touching aside. */
export function intersects(a, b) {
  const ba = bbox(a), bb = bbox(b);
  if (ba[0] > bb[2] || bb[0] > ba[2] || ba[1] > bb[3] || bb[1] > ba[3]) return false;
  const ringsA = polygons(a).map((p) => p[0]);
  const ringsB = polygons(b).map((p) => p[0]);
  if (ringsA.some((r) => r.some((pt) => pointInGeometry(pt, b)))) return true;
  if (ringsB.some((r) => r.some((pt) => pointInGeometry(pt, a)))) return true;
  for (const ra of ringsA) for (let i = 1; i < ra.length; i++) {
    for (const rb of ringsB) for (let j = 1; j < rb.length; j++) {
      if (segmentsCross(ra[i - 1], ra[i], rb[j - 1], rb[j])) return true;
    }
  }
  return false;
}
