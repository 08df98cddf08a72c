/**
 * The report as one self-contained HTML file: inline style, inline script, and the data as an inline JSON
 * blob. No network access, no external assets.
 */
import type { ReportData } from './data.js';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';

/** JSON that is safe inside a <script> element (no `</script>`, no HTML-significant characters, no JS line separators). */
export function inlineJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderReportHtml(data: ReportData): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(data.title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header>
  <h1 id="title"></h1>
  <p class="subtitle" id="subtitle"></p>
  <ul class="notes" id="notes"></ul>
</header>
<nav><a href="#results">Results</a><a href="#curves">Training curves</a><a href="#problems">Problems</a><a href="#attention">Attention</a></nav>
<main>
<section id="results"><h2>Results</h2><div id="tables"></div></section>
<section id="curves"><h2>Training curves</h2><div class="charts" id="charts"></div></section>
<section id="problems">
  <h2>Problems: saliency, chosen spans, counterfactuals</h2>
  <div class="controls">
    <button id="prev-problem" type="button">◀</button>
    <label>problem <select id="problem-select"></select></label>
    <button id="next-problem" type="button">▶</button>
    <label>scores <select id="unit-select"></select></label>
  </div>
  <div id="problem-view">
    <div class="facts" id="problem-facts"></div>
    <div class="facts mono" id="problem-response"></div>
    <div class="legend">
      <span><span class="swatch" style="background: rgb(var(--student))"></span>student saliency (normalised gradient norm)</span>
      <span><span class="swatch" style="background: rgb(var(--teacher))"></span>teacher saliency</span>
      <span><span class="swatch" style="background: rgb(var(--diff))"></span>1 − D (D = normalised teacher − student; dark = confounder candidate)</span>
      <span><span class="tok gt">dashed</span> ground-truth distractor</span>
      <span><span class="tok chosen">boxed</span> flagged by the miner</span>
    </div>
    <div class="panel" id="saliency"></div>
    <h3>Counterfactuals</h3>
    <div id="cf-list"></div>
    <h3 id="attention">Attention from the answer positions onto the prompt</h3>
    <div class="controls">
      <label>layer <select id="attention-layer"></select></label>
      <label>head <select id="attention-head"></select></label>
    </div>
    <div class="panel" id="attention-view"></div>
  </div>
</section>
</main>
<script id="leaf-data" type="application/json">${inlineJson(data)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
