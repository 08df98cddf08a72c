/**
 * The report page's script (vanilla JavaScript, inline). It reads the JSON blob from
 * <script id="leaf-data" type="application/json"> and draws everything with DOM calls; data text is only
 * ever set through textContent, never parsed as HTML.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('leaf-data').textContent);
  var PALETTE = ['#2f6fd6', '#de761c', '#2a9d4b', '#b43ac2', '#c23a3a', '#3ab1c2', '#7a6a2a', '#555555'];

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'class') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function fmt(v) {
    if (v === null || v === undefined) return '–';
    if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
    return String(v);
  }

  // Header.
  document.getElementById('title').textContent = data.title;
  document.getElementById('subtitle').textContent = data.subtitle;
  var notes = document.getElementById('notes');
  data.notes.forEach(function (n) { notes.appendChild(el('li', { text: n })); });

  // Tables.
  var tables = document.getElementById('tables');
  if (data.tables.length === 0) tables.appendChild(el('p', { class: 'empty', text: 'No tables in this report.' }));
  data.tables.forEach(function (t) {
    tables.appendChild(el('h3', { text: t.title }));
    var head = el('tr', null, t.columns.map(function (c) { return el('th', { text: c }); }));
    var body = t.rows.map(function (r) { return el('tr', null, r.map(function (v) { return el('td', { text: fmt(v) }); })); });
    tables.appendChild(el('table', { class: 'data', 'data-table': t.id }, [el('thead', null, [head]), el('tbody', null, body)]));
    if (t.caption) tables.appendChild(el('p', { class: 'caption', text: t.caption }));
  });

  // Training curves.
  var charts = document.getElementById('charts');
  if (data.curves.length === 0) charts.appendChild(el('p', { class: 'empty', text: 'No training curves (give --run with a metrics.jsonl).' }));
  data.curves.forEach(function (c) { charts.appendChild(drawChart(c)); });

  function drawChart(c) {
    var W = 560, H = 300, L = 52, R = 12, T = 14, B = 40;
    var groups = [];
    c.series.forEach(function (s) { if (groups.indexOf(s.group) < 0) groups.push(s.group); });
    var xs = [], ys = [];
    c.series.forEach(function (s) { s.points.forEach(function (p) { xs.push(p[0]); ys.push(p[1]); }); });
    var box = el('div', { class: 'chart', 'data-chart': c.id });
    box.appendChild(el('div', { text: c.title }));
    if (xs.length === 0) { box.appendChild(el('p', { class: 'empty', text: 'no points' })); return box; }
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    var y0 = Math.min(0, Math.min.apply(null, ys)), y1 = Math.max.apply(null, ys);
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) y1 = y0 + 1;
    var sx = function (x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
    var sy = function (y) { return T + (1 - (y - y0) / (y1 - y0)) * (H - T - B); };
    var s = svg('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H });
    s.appendChild(svg('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#999' }));
    s.appendChild(svg('line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#999' }));
    for (var i = 0; i <= 4; i++) {
      var yv = y0 + (y1 - y0) * i / 4, xv = x0 + (x1 - x0) * i / 4;
      var ty = svg('text', { x: L - 6, y: sy(yv) + 4, 'text-anchor': 'end' }); ty.textContent = fmt(yv); s.appendChild(ty);
      s.appendChild(svg('line', { x1: L, y1: sy(yv), x2: W - R, y2: sy(yv), stroke: '#eee' }));
      var tx = svg('text', { x: sx(xv), y: H - B + 14, 'text-anchor': 'middle' }); tx.textContent = fmt(Math.round(xv)); s.appendChild(tx);
    }
    var xl = svg('text', { x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle' }); xl.textContent = c.xLabel; s.appendChild(xl);
    var yl = svg('text', { x: 12, y: (T + H - B) / 2, 'text-anchor': 'middle', transform: 'rotate(-90 12 ' + (T + H - B) / 2 + ')' }); yl.textContent = c.yLabel; s.appendChild(yl);
    var line = function (pts) { return pts.map(function (p, j) { return (j ? 'L' : 'M') + sx(p[0]).toFixed(1) + ' ' + sy(p[1]).toFixed(1); }).join(' '); };
    c.series.forEach(function (ser) {
      var color = PALETTE[groups.indexOf(ser.group) % PALETTE.length];
      // Raw values faint, an exponential moving average (α = 0.1) on top.
      s.appendChild(svg('path', { d: line(ser.points), fill: 'none', stroke: color, 'stroke-width': 1, opacity: 0.18 }));
      var ema = null;
      var smooth = ser.points.map(function (p) { ema = ema === null ? p[1] : 0.9 * ema + 0.1 * p[1]; return [p[0], ema]; });
      var path = svg('path', { d: line(smooth), fill: 'none', stroke: color, 'stroke-width': 1.8, opacity: 0.9, 'data-series': ser.label });
      var title = svg('title', {}); title.textContent = ser.label + ' (moving average)'; path.appendChild(title);
      s.appendChild(path);
    });
    box.appendChild(s);
    var legend = el('div', { class: 'legend' });
    groups.forEach(function (g, j) {
      legend.appendChild(el('span', null, [el('span', { class: 'swatch', style: 'background:' + PALETTE[j % PALETTE.length] }), document.createTextNode(g)]));
    });
    box.appendChild(legend);
    return box;
  }

  // Problems.
  var probSel = document.getElementById('problem-select');
  var unitSel = document.getElementById('unit-select');
  var layerSel = document.getElementById('attention-layer');
  var headSel = document.getElementById('attention-head');
  if (data.problems.length === 0) {
    document.getElementById('problem-view').appendChild(el('p', { class: 'empty', text: 'No problems in this report.' }));
    return;
  }
  data.problems.forEach(function (p, i) {
    var gt = p.distractors ? ' · ' + p.distractors.length + ' distractor(s)' : '';
    var ok = p.counterfactuals.filter(function (c) { return c.verified === true; }).length;
    probSel.appendChild(el('option', { value: String(i), text: p.id + gt + ' · ' + ok + '/' + p.counterfactuals.length + ' verified counterfactuals' }));
  });

  function current() { return data.problems[Number(probSel.value) || 0]; }

  function unitLabel(s) {
    return s.method + ' · ' + (s.level === 'instruction' ? 'instruction' : 'response segment ' + s.segment);
  }

  function fillUnits() {
    var p = current();
    unitSel.textContent = '';
    p.scores.forEach(function (s, i) { unitSel.appendChild(el('option', { value: String(i), text: unitLabel(s) })); });
  }

  function overlaps(t, spans) {
    return (spans || []).some(function (d) { return t.start < d.end && t.end > d.start; });
  }

  function tokenRow(label, tokens, values, rgb, classes, title) {
    var line = el('div', { class: 'tokens' });
    tokens.forEach(function (t, i) {
      var v = values ? values[i] : null;
      var span = el('span', { class: 'tok heat-token' + (classes[i] ? ' ' + classes[i] : ''), text: t.text });
      if (v !== null && v !== undefined) {
        span.style.background = 'rgba(' + rgb + ',' + Math.max(0, Math.min(1, v)).toFixed(3) + ')';
        span.setAttribute('data-v', v.toFixed(4));
      }
      span.title = title(i, v);
      line.appendChild(span);
    });
    return el('div', { class: 'row' }, [el('div', { class: 'label', text: label }), line]);
  }

  function renderScores() {
    var p = current();
    var box = document.getElementById('saliency');
    box.textContent = '';
    var s = p.scores[Number(unitSel.value) || 0];
    if (!s) { box.appendChild(el('p', { class: 'empty', text: 'No scores for this problem.' })); return; }
    // Ground truth lines up only with the instruction-level text (the prompt itself).
    var gtSpans = s.level === 'instruction' && s.text === p.prompt ? p.distractors : null;
    var chosen = {};
    s.candidates.forEach(function (i) { chosen[i] = true; });
    var classes = s.tokens.map(function (t, i) {
      return (overlaps(t, gtSpans) ? 'gt' : '') + (chosen[i] ? ' chosen' : '');
    });
    var css = getComputedStyle(document.documentElement);
    var rgb = function (n) { return css.getPropertyValue('--' + n).trim(); };
    var tip = function (name) { return function (i, v) { return s.tokens[i].text + ' · ' + name + ' ' + (v === null || v === undefined ? '–' : v.toFixed(3)); }; };
    if (s.student) box.appendChild(tokenRow('student saliency', s.tokens, s.student, rgb('student'), classes, tip('student')));
    if (s.teacher) box.appendChild(tokenRow('teacher saliency', s.tokens, s.teacher, rgb('teacher'), classes, tip('teacher')));
    var low = s.diff.map(function (d) { return 1 - d; });
    box.appendChild(tokenRow(s.method === 'gradient' || s.method === 'occlusion' ? 'difference (1 − D)' : 'score (1 − D)', s.tokens, low, rgb('diff'), classes, function (i) { return s.tokens[i].text + ' · D ' + s.diff[i].toFixed(3) + (chosen[i] ? ' · flagged' : ''); }));
    box.appendChild(el('div', { class: 'facts', text: 'threshold ' + fmt(s.threshold) + ' · ' + s.candidates.length + ' flagged token(s) · ' + s.spans.length + ' span(s): ' + s.spans.map(function (x) { return '“' + x.text + '”'; }).join(', ') }));
  }

  function verdictText(v) { return v ? (v.correct ? 'right' : 'wrong') + ' (' + (v.answer === null ? 'no answer' : v.answer) + ')' : '–'; }

  function renderCounterfactuals() {
    var p = current();
    var box = document.getElementById('cf-list');
    box.textContent = '';
    if (p.counterfactuals.length === 0) { box.appendChild(el('p', { class: 'empty', text: 'No counterfactuals for this problem.' })); return; }
    var head = el('tr', null, ['method', 'level', 'removed', 'verification', 'teacher', 'student'].map(function (c) { return el('th', { text: c }); }));
    var rows = p.counterfactuals.map(function (c) {
      var removed = el('td', null, c.removed.map(function (r) { return el('span', { class: 'removed mono', text: r.text }); }));
      var cls = c.verified === true ? 'cf-ok' : c.verified === false ? 'cf-bad' : 'cf-na';
      var vt = c.verified === true ? '✓ verified' : c.verified === false ? '✗ rejected' : 'not checked';
      return el('tr', null, [el('td', { text: c.method }), el('td', { text: c.level + (c.segment ? ' ' + c.segment : '') }), removed,
        el('td', { class: cls, text: vt }), el('td', { text: verdictText(c.teacher) }), el('td', { text: verdictText(c.student) })]);
    });
    box.appendChild(el('table', { class: 'data', 'data-table': 'problem-counterfactuals' }, [el('thead', null, [head]), el('tbody', null, rows)]));
  }

  function fillAttentionControls() {
    var a = current().attention;
    var keepL = layerSel.value, keepH = headSel.value;
    layerSel.textContent = '';
    headSel.textContent = '';
    if (!a) return;
    layerSel.appendChild(el('option', { value: 'mean', text: 'mean of layers' }));
    for (var l = 0; l < a.layers; l++) layerSel.appendChild(el('option', { value: String(l), text: 'layer ' + l }));
    headSel.appendChild(el('option', { value: 'mean', text: 'mean of heads' }));
    for (var h = 0; h < a.heads; h++) headSel.appendChild(el('option', { value: String(h), text: 'head ' + h }));
    if (keepL && Number(keepL) < a.layers) layerSel.value = keepL;
    if (keepH && Number(keepH) < a.heads) headSel.value = keepH;
  }

  function attentionRow(weights, layer, head) {
    var L = weights.length, H = weights[0].length, n = weights[0][0].length;
    var ls = layer === 'mean' ? Array.from({ length: L }, function (_, i) { return i; }) : [Number(layer)];
    var hs = head === 'mean' ? Array.from({ length: H }, function (_, i) { return i; }) : [Number(head)];
    var out = new Array(n).fill(0);
    ls.forEach(function (l) { hs.forEach(function (h) { for (var i = 0; i < n; i++) out[i] += weights[l][h][i] / (ls.length * hs.length); }); });
    return out;
  }

  function renderAttention() {
    var p = current();
    var box = document.getElementById('attention-view');
    box.textContent = '';
    var a = p.attention;
    if (!a) { box.appendChild(el('p', { class: 'empty', text: 'No attention maps for this problem (the report was built without models).' })); return; }
    var css = getComputedStyle(document.documentElement);
    var rgb = css.getPropertyValue('--attn').trim();
    var classes = a.tokens.map(function (t) { return overlaps(t, p.distractors) ? 'gt' : ''; });
    a.models.forEach(function (m) {
      var w = attentionRow(m.weights, layerSel.value, headSel.value);
      var mx = Math.max.apply(null, w) || 1;
      var share = 0;
      a.tokens.forEach(function (t, i) { if (classes[i]) share += w[i]; });
      var total = w.reduce(function (x, y) { return x + y; }, 0) || 1;
      var row = tokenRow(m.label, a.tokens, w.map(function (x) { return x / mx; }), rgb, classes, function (i) { return a.tokens[i].text + ' · attention ' + w[i].toFixed(4); });
      row.setAttribute('data-attn-row', m.label);
      box.appendChild(row);
      if (p.distractors) box.appendChild(el('div', { class: 'facts', text: m.label + ': ' + (100 * share / total).toFixed(1) + '% of the prompt attention falls on ground-truth distractor tokens' }));
    });
    box.appendChild(el('div', { class: 'facts', text: 'Query rows: ' + a.queries + '. Colour: attention ÷ the row maximum.' }));
  }

  function renderProblem() {
    var p = current();
    var facts = document.getElementById('problem-facts');
    facts.textContent = '';
    var lines = [];
    if (p.answer !== null) lines.push('answer ' + p.answer);
    if (p.distractors) lines.push(p.distractors.length + ' ground-truth distractor sentence(s), dashed underline');
    p.facts.forEach(function (f) { lines.push(f); });
    facts.textContent = lines.join(' · ');
    var resp = document.getElementById('problem-response');
    resp.textContent = p.response ? 'reference response: ' + p.response : '';
    fillUnits();
    renderScores();
    renderCounterfactuals();
    fillAttentionControls();
    renderAttention();
  }

  probSel.addEventListener('change', renderProblem);
  unitSel.addEventListener('change', renderScores);
  layerSel.addEventListener('change', renderAttention);
  headSel.addEventListener('change', renderAttention);
  document.getElementById('prev-problem').addEventListener('click', function () { probSel.value = String(Math.max(0, Number(probSel.value) - 1)); renderProblem(); });
  document.getElementById('next-problem').addEventListener('click', function () { probSel.value = String(Math.min(data.problems.length - 1, Number(probSel.value) + 1)); renderProblem(); });
  renderProblem();
  document.body.setAttribute('data-ready', '1');
})();
`;
