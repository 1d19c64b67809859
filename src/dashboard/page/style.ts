/**
 * The page's stylesheet: a dark theme (a light one when the browser prefers
 * it), a responsive grid of cards, and uPlot's legend made compact.
 *
 * @example
 * ```ts
 * const html = `<style>${PAGE_CSS}</style>`;
 * ```
 */
export const PAGE_CSS = String.raw`
:root{--bg:#0d1117;--panel:#151b23;--border:#262f3b;--text:#e1e7ef;--muted:#8d96a3;--grid:#1f2731;--accent:#58a6ff;--ok:#3fb950;--warn:#d29922;--bad:#f85149;color-scheme:dark}
@media (prefers-color-scheme:light){:root{--bg:#f5f7fa;--panel:#fff;--border:#dde3ea;--text:#1d2633;--muted:#5f6b7a;--grid:#edf0f4;--accent:#0969da;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;color-scheme:light}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header a.runbooks{color:inherit}
header{position:sticky;top:0;z-index:5;display:flex;flex-wrap:wrap;gap:10px 18px;align-items:center;padding:10px 20px;background:var(--panel);border-bottom:1px solid var(--border)}
.brand{font-weight:650;font-size:15px;letter-spacing:.2px}
.brand b{color:var(--accent)}
.brand span{color:var(--muted);font-weight:400;margin-left:8px}
.spacer{flex:1}
.seg{display:inline-flex;border:1px solid var(--border);border-radius:7px;overflow:hidden}
.seg button,.live{background:transparent;color:var(--muted);border:0;padding:5px 10px;font:inherit;cursor:pointer}
.seg button+button{border-left:1px solid var(--border)}
.seg button[aria-pressed=true]{background:var(--accent);color:#fff}
.live{border:1px solid var(--border);border-radius:7px}
.live::before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;background:var(--muted);margin-right:6px}
.live[aria-pressed=true]{color:var(--text)}
.live[aria-pressed=true]::before{background:var(--ok);box-shadow:0 0 0 3px color-mix(in srgb,var(--ok) 25%,transparent)}
#updated{color:var(--muted);font-variant-numeric:tabular-nums;min-width:120px;text-align:right}
#notice{margin:12px 20px 0;padding:8px 12px;border:1px solid color-mix(in srgb,var(--warn) 45%,var(--border));background:color-mix(in srgb,var(--warn) 10%,var(--panel));border-radius:8px}
#notice[hidden]{display:none}
main{padding:4px 20px 28px}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(128px,1fr));gap:10px;margin-top:14px}
.tile{background:var(--panel);border:1px solid var(--border);border-left:3px solid var(--border);border-radius:8px;padding:8px 12px}
.tile .k{color:var(--muted);font-size:12px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.tile .v{font-size:21px;font-weight:600;font-variant-numeric:tabular-nums;margin-top:2px;white-space:nowrap}
.ok{--level:var(--ok)}.warn{--level:var(--warn)}.bad{--level:var(--bad)}
.tile.ok,.tile.warn,.tile.bad{border-left-color:var(--level)}
.tile.warn .v,.tile.bad .v,td.warn,td.bad{color:var(--level)}
h2{font-size:12px;font-weight:600;text-transform:uppercase;letter-spacing:.8px;color:var(--muted);margin:22px 0 8px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:12px}
@media (min-width:800px){.card.wide{grid-column:span 2}}
.card{background:var(--panel);border:1px solid var(--border);border-radius:8px;padding:10px 12px 6px;min-width:0}
.card h3{margin:0 0 4px;font-size:13px;font-weight:600}
.card h3 small{color:var(--muted);font-weight:400;margin-left:6px}
.plot{height:218px}
.empty{color:var(--muted);padding:40px 0;text-align:center}
[hidden]{display:none!important}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
th{color:var(--muted);font-weight:500;text-align:right;padding:6px 10px;border-bottom:1px solid var(--border)}
td{text-align:right;padding:5px 10px;border-bottom:1px solid var(--grid)}
th:first-child,td:first-child{text-align:left}
td:first-child{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;position:relative}
td:first-child i{position:absolute;left:0;top:3px;bottom:3px;background:color-mix(in srgb,var(--accent) 16%,transparent);border-radius:3px}
td:first-child span{position:relative}
tr:last-child td{border-bottom:0}
.foot{color:var(--muted);font-size:12px;padding-top:6px}
.u-legend{font-size:11.5px;color:var(--muted);text-align:left;margin-top:2px}
.u-legend .u-series{padding:0 8px 0 0}
.u-legend .u-series th{font-weight:400;color:var(--muted);padding:1px 2px}
.u-legend .u-series td{padding:1px 2px;color:var(--text);border:0}
.u-legend .u-marker{width:10px;height:3px;margin-right:5px;border-radius:2px}
.u-legend.u-inline .u-series:first-child{display:none}
`;
