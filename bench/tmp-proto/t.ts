import { ensureImage, IMAGES } from '../lib/images.ts';
const b = await ensureImage(IMAGES['p10']!, console.log);
console.log(b.compressedBytes/1e6, b.uncompressedBytes/1e6, b.files, (b.compressedBytes/b.uncompressedBytes).toFixed(3));
