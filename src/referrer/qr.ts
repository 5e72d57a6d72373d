import { type Html, html } from "../dashboard/html.js";

/**
 * A link's QR code as inline SVG, drawn on the server: the `qrcode` package computes the modules, and this
 * draws them as one path, dark on light whatever the page's theme (a scanner needs the contrast), with a
 * quiet zone of four modules. The package is loaded on the first code drawn, so that importing an adapter
 * never loads it.
 */

type QRCodeModule = typeof import("qrcode");
let loading: Promise<QRCodeModule> | undefined;

async function qrcode(): Promise<QRCodeModule> {
	loading ??= import("qrcode").then((module) => (module as { default?: QRCodeModule }).default ?? module);
	return loading;
}

const QUIET = 4;

/** The QR code of `text`, `role="img"` named `label`, with the class `refkit-qr-code`. */
export async function qrSvg(text: string, label: string): Promise<Html> {
	const { create } = await qrcode();
	const { modules } = create(text, { errorCorrectionLevel: "M" });
	const size = modules.size;
	const full = size + 2 * QUIET;
	let path = "";
	for (let row = 0; row < size; row++) {
		let col = 0;
		while (col < size) {
			if (!modules.get(row, col)) {
				col++;
				continue;
			}
			const start = col;
			while (col < size && modules.get(row, col)) col++;
			path += `M${start + QUIET} ${row + QUIET}h${col - start}v1h${start - col}z`;
		}
	}
	return html`<svg class="refkit-qr-code" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${full} ${full}" role="img" aria-label="${label}" shape-rendering="crispEdges" data-size="${size}"><rect width="${full}" height="${full}" fill="#ffffff"/><path fill="#000000" d="${path}"/></svg>`;
}
