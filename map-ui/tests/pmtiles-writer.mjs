// A PMTiles v3 writer just large enough for the browser tests: every tile in the root directory,
// nothing compressed, tiles stored in tile-id order (PMTiles v3 specification, "Header" and
// "Directories"). The map reads what it writes with the real PMTiles reader.
import { zxyToTileId } from 'pmtiles';

const HEADER_BYTES = 127;
const NONE = 1;

function varint(out, n) {
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/**
 * `tiles`: [{ z, x, y, data: Uint8Array }]; `tileType` 1 = MVT; `bounds` [w, s, e, n] in degrees.
 * Returns the archive as a Buffer.
 */
export function writePmtiles(tiles, { tileType = 1, minZoom, maxZoom, bounds, centerZoom = minZoom, metadata = {} }) {
  const entries = tiles.filter((t) => t.data.length > 0)
    .map((t) => ({ id: zxyToTileId(t.z, t.x, t.y), data: Buffer.from(t.data) }))
    .sort((a, b) => a.id - b.id);
  let offset = 0;
  for (const e of entries) {
    e.offset = offset;
    offset += e.data.length;
  }
  const dir = [];
  varint(dir, entries.length);
  let last = 0;
  for (const e of entries) {
    varint(dir, e.id - last);
    last = e.id;
  }
  for (let i = 0; i < entries.length; i++) varint(dir, 1);
  for (const e of entries) varint(dir, e.data.length);
  // 0 means "right after the previous tile"; anything else is offset + 1.
  entries.forEach((e, i) => varint(dir, i > 0 && e.offset === entries[i - 1].offset + entries[i - 1].data.length ? 0 : e.offset + 1));
  if (HEADER_BYTES + dir.length > 16384) throw new Error('too many tiles for a root-only archive');
  const meta = Buffer.from(JSON.stringify(metadata));
  const metaOffset = HEADER_BYTES + dir.length;
  const dataOffset = metaOffset + meta.length;
  const h = Buffer.alloc(HEADER_BYTES);
  h.write('PMTiles', 0, 'ascii');
  h[7] = 3;
  const u64 = (at, v) => h.writeBigUInt64LE(BigInt(v), at);
  u64(8, HEADER_BYTES);
  u64(16, dir.length);
  u64(24, metaOffset);
  u64(32, meta.length);
  u64(40, dataOffset); // no leaf directories
  u64(48, 0);
  u64(56, dataOffset);
  u64(64, offset);
  u64(72, entries.length); // addressed tiles
  u64(80, entries.length); // tile entries
  u64(88, entries.length); // tile contents
  h[96] = 1; // clustered
  h[97] = NONE; // internal compression
  h[98] = NONE; // tile compression
  h[99] = tileType;
  h[100] = minZoom;
  h[101] = maxZoom;
  const e7 = (at, deg) => h.writeInt32LE(Math.round(deg * 1e7), at);
  e7(102, bounds[0]);
  e7(106, bounds[1]);
  e7(110, bounds[2]);
  e7(114, bounds[3]);
  h[118] = centerZoom;
  e7(119, (bounds[0] + bounds[2]) / 2);
  e7(123, (bounds[1] + bounds[3]) / 2);
  return Buffer.concat([h, Buffer.from(dir), meta, ...entries.map((e) => e.data)]);
}

/** The z/x/y of the tile holding a lon/lat point. */
export function tileOf(lon, lat, z) {
  const n = 2 ** z;
  const r = (lat * Math.PI) / 180;
  return { x: Math.floor(((lon + 180) / 360) * n), y: Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n) };
}
