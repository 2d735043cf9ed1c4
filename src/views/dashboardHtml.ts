/** The dashboard webview's page: a strict CSP, one nonce'd script, nothing remote. Pure, for the browser test. */
export interface DashboardPage {
  /** `webview.cspSource`: the only origin styles, images and fonts may come from. */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  codiconsUri: string;
}

export function dashboardContentSecurityPolicy(page: Pick<DashboardPage, 'cspSource' | 'nonce'>): string {
  return [
    "default-src 'none'",
    `style-src ${page.cspSource}`,
    `img-src ${page.cspSource} data:`,
    `font-src ${page.cspSource}`,
    `script-src 'nonce-${page.nonce}'`,
  ].join('; ');
}

export function dashboardHtml(page: DashboardPage): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${dashboardContentSecurityPolicy(page)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${page.codiconsUri}">
<link rel="stylesheet" href="${page.styleUri}">
<title>Claude Code Telemetry</title>
</head>
<body>
<div id="root"></div>
<script nonce="${page.nonce}" src="${page.scriptUri}"></script>
</body>
</html>`;
}
