// The map's pure helpers: class breaks for the legend and the planar "does this coverage reach
// this kelurahan" test of the panel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quantileBreaks, stepClasses, stepExpression, VIRIDIS, NO_DATA } from '../src/js/scales.js';
import { intersects, pointInGeometry } from '../src/js/geo.js';

const square = (x0, y0, x1, y1) => ({ type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] });

test('quantile breaks split 1..100 into five classes of twenty', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.deepEqual(quantileBreaks(values, 5), [21, 41, 61, 81]);
});

test('quantile breaks drop repeats and ignore missing values', () => {
  assert.deepEqual(quantileBreaks([5, 5, 5, 5, NaN, 9], 5), [9]);
  assert.deepEqual(quantileBreaks([], 5), []);
});

test('legend classes run from the minimum through each break to the maximum', () => {
  const c = stepClasses([10, 20], VIRIDIS, 0, 30);
  assert.deepEqual(c.map((x) => [x.from, x.to]), [[0, 10], [10, 20], [20, 30]]);
  assert.deepEqual(c.map((x) => x.colour), [VIRIDIS[0], VIRIDIS[2], VIRIDIS[4]]);
});

test('the step expression colours missing values grey and uses the same colours as the legend', () => {
  const e = stepExpression('gap_score', [10, 20], VIRIDIS);
  assert.equal(e[0], 'case');
  assert.equal(e.at(-1), NO_DATA);
  const step = e[2];
  assert.deepEqual(step.slice(2), [VIRIDIS[0], 10, VIRIDIS[2], 20, VIRIDIS[4]]);
});

test('point in polygon respects holes', () => {
  const withHole = { type: 'Polygon', coordinates: [square(0, 0, 10, 10).coordinates[0], square(4, 4, 6, 6).coordinates[0]] };
  assert.equal(pointInGeometry([1, 1], withHole), true);
  assert.equal(pointInGeometry([5, 5], withHole), false);
  assert.equal(pointInGeometry([11, 5], withHole), false);
});

test('intersects: overlap, containment, crossing without vertices inside, and disjoint', () => {
  assert.equal(intersects(square(0, 0, 2, 2), square(1, 1, 3, 3)), true);
  assert.equal(intersects(square(0, 0, 10, 10), square(4, 4, 5, 5)), true);
  // A plus sign: neither has a vertex inside the other, but their edges cross.
  assert.equal(intersects(square(0, 4, 10, 6), square(4, 0, 6, 10)), true);
  assert.equal(intersects(square(0, 0, 1, 1), square(2, 2, 3, 3)), false);
  assert.equal(intersects({ type: 'MultiPolygon', coordinates: [square(0, 0, 1, 1).coordinates, square(5, 5, 6, 6).coordinates] }, square(5.5, 5.5, 7, 7)), true);
});
