// Photos are made small on the phone before they are stored or sent: the longest side at most
// 1600 px and the file at most 400 KB, re-encoded as JPEG through a canvas, which keeps only the
// pixels (EXIF, GPS and the rest are gone; the server strips and checks again all the same).

export const MAX_SIDE_PX = 1600;
export const MAX_BYTES = 400 * 1024;
const QUALITIES = [0.85, 0.75, 0.65, 0.55, 0.45, 0.35];

function toBlob(canvas, quality) {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type: 'image/jpeg', quality });
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
}

/** The photo `file` resized and re-encoded as a JPEG Blob of at most MAX_BYTES (a File when it can). */
export async function shrinkPhoto(file) {
  // The EXIF orientation is applied to the pixels before the metadata goes.
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  let scale = Math.min(1, MAX_SIDE_PX / Math.max(bitmap.width, bitmap.height));
  let blob = null;
  for (let round = 0; round < 4; round++) {
    const w = Math.max(1, Math.round(bitmap.width * scale));
    const hgt = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(w, hgt) : Object.assign(document.createElement('canvas'), { width: w, height: hgt });
    const ctx = canvas.getContext('2d');
    // JPEG has no transparency: a transparent PNG gets a white background, not a black one.
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, w, hgt);
    ctx.drawImage(bitmap, 0, 0, w, hgt);
    for (const q of QUALITIES) {
      blob = await toBlob(canvas, q);
      if (blob.size <= MAX_BYTES) break;
    }
    if (blob.size <= MAX_BYTES) break;
    scale *= 0.75; // still too big at the lowest quality (a very detailed photo): fewer pixels
  }
  bitmap.close?.();
  const name = (file.name || 'foto').replace(/\.[^.]*$/, '') + '.jpg';
  return typeof File === 'function' ? new File([blob], name, { type: 'image/jpeg' }) : blob;
}
