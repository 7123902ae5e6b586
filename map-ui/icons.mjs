// The app's icons (a white map pin on the accent colour), drawn at build time as PNGs so the
// repository holds no binary files: a PNG is a few zlib-compressed rows and three CRC'd chunks.
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const ACCENT = [0x0b, 0x5c, 0xad];

/** Is (x, y), in units of the icon's side (0..1), on the pin? `s` shrinks it (maskable safe zone). */
function onPin(x, y, s) {
  const u = (x - 0.5) / s + 0.5;
  const v = (y - 0.5) / s + 0.5;
  const cx = 0.5, cy = 0.42, r = 0.2;
  const d = Math.hypot(u - cx, v - cy);
  if (d <= 0.085) return false;
  if (d <= r) return true;
  // The point below: a triangle from the circle's sides down to (0.5, 0.8).
  if (v < cy || v > 0.8) return false;
  const half = r * (0.8 - v) / (0.8 - cy);
  return Math.abs(u - cx) <= half;
}

/** An RGBA PNG of `size`² pixels; `maskable` fills the whole square (the platform crops it). */
export function iconPng(size, { maskable = false } = {}) {
  const rows = Buffer.alloc(size * (size * 4 + 1));
  const corner = maskable ? 0 : 0.18;
  for (let y = 0; y < size; y++) {
    const o = y * (size * 4 + 1);
    rows[o] = 0;
    for (let x = 0; x < size; x++) {
      const fx = (x + 0.5) / size;
      const fy = (y + 0.5) / size;
      // Rounded square: outside the corner circles is transparent.
      const qx = Math.max(corner - fx, fx - (1 - corner), 0);
      const qy = Math.max(corner - fy, fy - (1 - corner), 0);
      const inside = corner === 0 || Math.hypot(qx, qy) <= corner;
      const p = o + 1 + x * 4;
      if (!inside) continue;
      const white = onPin(fx, fy, maskable ? 0.75 : 1);
      rows[p] = white ? 255 : ACCENT[0];
      rows[p + 1] = white ? 255 : ACCENT[1];
      rows[p + 2] = white ? 255 : ACCENT[2];
      rows[p + 3] = 255;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
