// How figures read wherever they are shown (status bar, notifications, the sidebar): one formatter per kind, so the
// same amount never reads two ways. A neutral module: the host and the webview both import it.

const DOLLARS = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** US dollars to the cent, with thousands separators: `$0.29`, `$1,234.56`. */
export function usd(value: number): string {
  return DOLLARS.format(value);
}
