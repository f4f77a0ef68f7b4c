// The dashboard stylesheet, served as /assets/dashboard.css. Colours always come with a
// text label (OK / LATE / FAIL) and, in charts, with a shape (filled = kept, hollow =
// failed). Below 700px wide, tables turn into stacked cards (phone layout).
export const DASHBOARD_CSS = `
:root {
  --bg: #f6f7f9; --fg: #1d232b; --muted: #5c6670; --card: #fff; --line: #d9dee3;
  --green: #1a7f37; --green-bg: #dafbe1; --orange: #9a4d00; --orange-bg: #fff1d6;
  --red: #c0262d; --red-bg: #ffe1e1; --grey: #57606a; --grey-bg: #eaeef2; --link: #0b5cad;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 15px;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); line-height: 1.4; }
a { color: var(--link); }
header.top { background: #16202b; color: #fff; padding: .5rem 1rem; display: flex; flex-wrap: wrap;
  align-items: center; gap: .5rem 1.25rem; }
header.top .brand { font-weight: 700; font-size: 1.1rem; color: #fff; text-decoration: none; }
header.top nav { display: flex; flex-wrap: wrap; gap: .25rem .9rem; }
header.top nav a { color: #cfe3ff; text-decoration: none; padding: .2rem 0; }
header.top nav a[aria-current="page"] { color: #fff; border-bottom: 2px solid #fff; }
header.top form { margin-left: auto; }
header.top button { background: transparent; color: #fff; border: 1px solid #8aa; border-radius: 4px;
  padding: .2rem .6rem; cursor: pointer; }
#summary { display: flex; flex-wrap: wrap; gap: .5rem; padding: .75rem 1rem 0; }
.count { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .35rem .7rem;
  display: flex; align-items: center; gap: .4rem; }
.count b { font-size: 1.2rem; }
a.count { color: inherit; text-decoration: none; } a.count:hover { border-color: var(--link); }
#summary .as-of { align-self: center; }
.toolbar { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; margin-bottom: .5rem; }
form.filters, form.search { display: flex; flex-wrap: wrap; gap: .4rem .8rem; align-items: center; margin: 0 0 .5rem; }
form.filters input[type=text], form.search input { max-width: 100%; min-width: 0; padding: .25rem .4rem; }
form.filters select { padding: .2rem; }
.pager { display: flex; flex-wrap: wrap; gap: .3rem 1rem; align-items: baseline; margin: .5rem 0 1rem; font-size: .92rem; }
.pager .rows { color: var(--muted); }
.pager .sizes a, .pager .sizes b { margin-right: .35rem; }
.notice { background: var(--orange-bg); border: 1px solid var(--orange); padding: .5rem .8rem; border-radius: 6px; overflow-wrap: anywhere; }
main { padding: .75rem 1rem 2rem; max-width: 1400px; }
h1 { font-size: 1.3rem; margin: .5rem 0 .75rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem;
  margin-bottom: 1rem; }
.meta { color: var(--muted); font-size: .9rem; }
.badge { display: inline-block; min-width: 3.4em; text-align: center; font-weight: 700; font-size: .8rem;
  border-radius: 999px; padding: .05rem .5rem; border: 1px solid currentColor; white-space: nowrap; }
.badge.green { color: var(--green); background: var(--green-bg); }
.badge.orange { color: var(--orange); background: var(--orange-bg); }
.badge.red { color: var(--red); background: var(--red-bg); }
.badge.unknown, .badge.grey { color: var(--grey); background: var(--grey-bg); }
.dot::before { content: "\\25CF"; margin-right: .25rem; }
.dot.green::before { color: var(--green); } .dot.orange::before { color: var(--orange); }
.dot.red::before { color: var(--red); } .dot.unknown::before { color: var(--grey); }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); }
th, td { text-align: left; padding: .4rem .55rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f4; font-size: .85rem; color: var(--muted); font-weight: 600; }
tr.red td:first-child { box-shadow: inset 4px 0 var(--red); }
tr.orange td:first-child { box-shadow: inset 4px 0 var(--orange); }
td[data-label="Last report"], td[data-label="Last bang"], td[data-label="Last contact"],
td[data-label="Partition"] a, td[data-label="Computer"] { white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.msg { white-space: pre-wrap; word-break: break-word; max-width: 48ch; font-family: ui-monospace, monospace;
  font-size: .82rem; max-height: 9em; overflow: auto; display: block; }
.reason { color: var(--muted); font-size: .88rem; }
.since { font-size: .88rem; white-space: nowrap; }
.empty { color: var(--muted); font-style: italic; }
.error { background: var(--red-bg); border: 1px solid var(--red); color: var(--red); padding: .6rem .8rem;
  border-radius: 6px; }
.kv { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .25rem 1rem; margin: 0; }
.kv dt { color: var(--muted); } .kv dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.reason, td[data-label="Status"], td[data-label="Detail"], td[data-label="Pending reprocess"] { overflow-wrap: anywhere; }
.promises { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 400px), 1fr)); gap: .75rem; }
.promise { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .6rem .75rem; }
.promise.failed { border-color: var(--red); }
.card.tree h2 { margin-top: 0; }
.promise h3 { font-size: 1rem; margin: 0 0 .3rem; display: flex; gap: .5rem; align-items: center;
  flex-wrap: wrap; }
figure.history { margin: .4rem 0 0; }
svg.chart { width: 100%; max-width: 520px; height: auto; display: block; margin-top: .4rem; }
svg.chart .axis { stroke: #aab3bc; stroke-width: 1; }
svg.chart .line { fill: none; stroke: #4b6b8a; stroke-width: 1.5; }
svg.chart .kept { fill: var(--green); stroke: var(--green); }
svg.chart .failed { fill: #fff; stroke: var(--red); stroke-width: 2; }
svg.chart .band-kept { fill: var(--green); } svg.chart .band-failed { fill: var(--red); }
svg.chart text { font-size: 10.5px; fill: var(--muted); font-family: system-ui, sans-serif; }
.legend { font-size: .8rem; color: var(--muted); }
.legend .k::before { content: "\\25CF"; color: var(--green); margin-right: .2rem; }
.legend .f::before { content: "\\25CB"; color: var(--red); margin-right: .2rem; font-weight: 700; }
footer { padding: .5rem 1rem 1.5rem; color: var(--muted); font-size: .85rem; }
footer button { font-size: .8rem; }
#refresh-status[data-failed="true"] { color: var(--red); }
.login { max-width: 380px; margin: 12vh auto; }
.login input { width: 100%; padding: .5rem; font-size: 1rem; margin: .4rem 0 .8rem; }
.login button { padding: .5rem 1rem; font-size: 1rem; }
@media (max-width: 700px) {
  main { padding: .5rem; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: 100%; }
  table.stack { border: 0; background: transparent; }
  table.stack thead { display: none; }
  table.stack tr { background: var(--card); border: 1px solid var(--line); border-radius: 6px; margin-bottom: .5rem; }
  table.stack td { border: 0; padding: .2rem .6rem; overflow-wrap: anywhere; }
  table.stack td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: .85rem; }
  table.stack td.num { text-align: left; }
  .promises { grid-template-columns: 1fr; }
  .msg { max-width: 100%; }
  header.top form { margin-left: 0; }
}
`;

/** A green dot in a dark ring: the tab icon (served as /assets/favicon.svg). */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#16202b"/><circle cx="8" cy="8" r="4" fill="#2da44e"/></svg>';
