/**
 * The dashboard webview's HTML. Pure (no `vscode`): the panel passes in the webview's CSP source and
 * the resource URIs, so the page and its policy are unit-tested without an editor.
 */

import { randomBytes } from 'node:crypto';

/** Inputs of {@link renderDashboardHtml}. */
export interface DashboardHtmlParts {
	/** `webview.cspSource`. */
	readonly cspSource: string;
	/** A fresh nonce for this page load ({@link makeNonce}). */
	readonly nonce: string;
	/** URI of dist/webview.js as the webview sees it. */
	readonly scriptUri: string;
	/** URI of media/dashboard.css as the webview sees it. */
	readonly styleUri: string;
}

/** A nonce from the OS's cryptographic generator (not Math.random, which is predictable). */
export function makeNonce(): string {
	return randomBytes(18).toString('base64');
}

/**
 * The content security policy: nothing by default; styles only from the extension's files (no
 * 'unsafe-inline': Chart.js 4 sets canvas styles from script, which CSP allows); scripts only with this load's nonce; images from the extension and data: URIs (PNG export).
 */
export function dashboardCsp(cspSource: string, nonce: string): string {
	return [`default-src 'none'`, `img-src ${cspSource} data:`, `style-src ${cspSource}`, `font-src ${cspSource}`, `script-src 'nonce-${nonce}'`].join('; ');
}

function escapeAttr(s: string): string {
	return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The page: one stylesheet, one script, an empty #app the script fills. */
export function renderDashboardHtml(parts: DashboardHtmlParts): string {
	const nonce = escapeAttr(parts.nonce);
	return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(dashboardCsp(parts.cspSource, parts.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(parts.styleUri)}">
<title>Poison Lens</title>
</head>
<body>
<div id="app"><p class="pl-loading">Loading the Poison Lens dashboard…</p></div>
<script nonce="${nonce}" src="${escapeAttr(parts.scriptUri)}"></script>
</body>
</html>
`;
}
