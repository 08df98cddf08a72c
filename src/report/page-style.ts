/** The report page's stylesheet (inline; no external assets). */
export const PAGE_STYLE = `
:root { --fg: #1d2330; --muted: #5d6677; --line: #d9dee8; --bg: #ffffff; --panel: #f6f8fb; --accent: #2f6fd6;
  --student: 47, 111, 214; --teacher: 222, 118, 28; --diff: 209, 45, 45; --attn: 120, 60, 200; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 20px 28px 12px; border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .subtitle { color: var(--muted); margin: 0 0 8px; }
ul.notes { margin: 6px 0 0; padding-left: 18px; }
ul.notes li { margin: 2px 0; }
nav { padding: 8px 28px; border-bottom: 1px solid var(--line); position: sticky; top: 0; background: var(--bg); z-index: 2; }
nav a { margin-right: 16px; color: var(--accent); text-decoration: none; }
main { padding: 8px 28px 40px; max-width: 1280px; }
section { margin-top: 22px; }
h2 { font-size: 18px; margin: 0 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
table.data { border-collapse: collapse; margin: 6px 0 4px; font-variant-numeric: tabular-nums; }
table.data th, table.data td { border: 1px solid var(--line); padding: 3px 9px; text-align: right; }
table.data th { background: var(--panel); font-weight: 600; }
table.data td:first-child, table.data th:first-child { text-align: left; }
.caption { color: var(--muted); font-size: 12.5px; margin: 0 0 12px; max-width: 900px; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; }
.chart { border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; background: #fff; }
.chart svg text { font-size: 11px; fill: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 12.5px; color: var(--muted); margin: 4px 0 8px; align-items: center; }
.legend .swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
.controls { display: flex; flex-wrap: wrap; gap: 14px; align-items: center; margin: 6px 0 10px; }
.controls label { color: var(--muted); }
select, button { font: inherit; padding: 2px 6px; }
.facts { color: var(--muted); margin: 4px 0 8px; }
.row { display: grid; grid-template-columns: 130px 1fr; gap: 10px; margin: 5px 0; align-items: start; }
.row .label { color: var(--muted); font-size: 12.5px; padding-top: 3px; }
.tokens { line-height: 2.05; }
.tok { display: inline-block; padding: 0 2px; margin: 0 1px 1px 0; border-radius: 3px; border: 1px solid transparent; white-space: pre; }
.tok.gt { border-bottom: 2px dashed #111; }
.tok.chosen { border-color: rgb(var(--diff)); box-shadow: inset 0 0 0 1px rgb(var(--diff)); }
.cf-ok { color: #177a2b; font-weight: 600; }
.cf-bad { color: #b42318; font-weight: 600; }
.cf-na { color: var(--muted); }
.removed { text-decoration: line-through; color: #b42318; }
.empty { color: var(--muted); font-style: italic; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
`;
