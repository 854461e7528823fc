/**
 * Analysis images (eigenvectors, triggers) as PNG data URLs, in the dashboard's colours (webview/derive.ts
 * imageToRgba: diverging blue–white–red for signed data, grey otherwise), upscaled with nearest-neighbour so the
 * pixels stay crisp in any viewer. Pure (pngjs encodes in memory).
 */
import { PNG } from 'pngjs';
import type { ImageRecord } from '../protocol/analysisRecord';
import { imageToRgba } from '../../webview/derive';

/** Encodes RGBA bytes (width·height·4) as PNG, each pixel drawn as a `scale`×`scale` block. */
export function rgbaToPng(rgba: ArrayLike<number>, width: number, height: number, scale = 1): Buffer {
	const png = new PNG({ width: width * scale, height: height * scale });
	for (let y = 0; y < height * scale; y++) {
		for (let x = 0; x < width * scale; x++) {
			const src = (Math.floor(y / scale) * width + Math.floor(x / scale)) * 4;
			const dst = (y * width * scale + x) * 4;
			for (let c = 0; c < 4; c++) {
				png.data[dst + c] = Math.max(0, Math.min(255, Math.round(rgba[src + c])));
			}
		}
	}
	return PNG.sync.write(png);
}

/** A PNG data URL of an analysis image, about `targetSize` pixels wide. */
export function imageRecordDataUrl(img: ImageRecord, targetSize = 140): string {
	const { data } = imageToRgba(img);
	const scale = Math.max(1, Math.round(targetSize / Math.max(img.width, img.height)));
	return `data:image/png;base64,${rgbaToPng(data, img.width, img.height, scale).toString('base64')}`;
}
