// The session page of convlog: header, timeline of tool calls, filters and
// conversation, drawn from the JSON document in #data. Every text from the
// session goes into the page through textContent or attribute values, never
// as markup, so that nothing in a transcript can run.
'use strict';
(function () {
  const D = JSON.parse(document.getElementById('data').textContent);
  const doc = document;
  const NS = 'http://www.w3.org/2000/svg';

  // ---- state
  let session = D.session;
  const calls = new Map(); // id → call
  const callOrder = []; // calls in order of their tool_use
  const items = []; // items in sequence order
  const callEl = new Map(); // id → conversation card
  const barEl = new Map(); // id → timeline rect
  let hidden = D.hidden || 0;
  let clockSkew = (D.now || Date.now()) - Date.now(); // server time − browser time
  const filters = { errors: false, tool: '', hideSub: false };
  let zoom = 1;
  let rendered = 0; // items rendered so far
  let liveSource = null;

  for (const c of D.calls) addCall(c);
  for (const it of D.items) items.push(it);

  // ---- small helpers
  function el(tag, cls, text) {
    const e = doc.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs) {
    const e = doc.createElementNS(NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function pad(n, w) { return String(n).padStart(w || 2, '0'); }
  function fmtLocal(ms, withDate) {
    const d = new Date(ms);
    const off = -d.getTimezoneOffset();
    const sign = off >= 0 ? '+' : '-';
    const a = Math.abs(off);
    const time = pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
    if (!withDate) return time;
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + time +
      ' UTC' + sign + pad(Math.floor(a / 60)) + ':' + pad(a % 60);
  }
  function fmtDur(ms) {
    if (ms === null || ms === undefined) return '–';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 10000) return (ms / 1000).toFixed(2) + ' s';
    if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
    const s = Math.round(ms / 1000);
    if (s < 3600) return Math.floor(s / 60) + 'm ' + pad(s % 60) + 's';
    return Math.floor(s / 3600) + 'h ' + pad(Math.floor(s / 60) % 60) + 'm';
  }
  function fmtInt(n) { return Number(n).toLocaleString('en-US'); }
  function fmtSize(n) {
    if (n >= 1048576) return (n / 1048576).toFixed(1) + ' MB';
    if (n >= 1024) return (n / 1024).toFixed(1) + ' KB';
    return n + ' B';
  }
  function fmtCost(c) { return '$' + Number(c).toFixed(4); }
  function now() { return Date.now() + clockSkew; }
  function clip(s, n) {
    s = String(s);
    return s.length > n ? s.slice(0, n) + '…' : s;
  }
  function oneLine(s) { return String(s).replace(/\s+/g, ' ').trim(); }

  // ---- calls
  function addCall(c) {
    const old = calls.get(c.id);
    if (old) return Object.assign(old, c);
    c._i = callOrder.length;
    callOrder.push(c);
    calls.set(c.id, c);
    return c;
  }
  function isSub(c) { return !!(c.p || c.sc); }
  function callEnd(c) {
    if (c.t1) return c.t1;
    if (c.t0 && c.d !== null && c.d !== undefined) return c.t0 + c.d;
    if (c.st === 'pending' && c.t0) return session.running ? Math.max(now(), c.t0) : c.t0;
    return c.t0;
  }
  function digest(c) {
    const i = c.in;
    if (!i || typeof i !== 'object') return i === undefined || i === null ? '' : clip(oneLine(i), 160);
    const pick = ['command', 'file_path', 'notebook_path', 'pattern', 'url', 'query', 'description', 'prompt', 'path', 'skill'];
    for (const k of pick) if (typeof i[k] === 'string' && i[k]) {
      let s = i[k];
      if (k === 'pattern' && typeof i.path === 'string') s += '  in ' + i.path;
      return clip(oneLine(s), 160);
    }
    if (Array.isArray(i.todos)) return i.todos.length + ' todos';
    for (const k in i) if (typeof i[k] === 'string' && i[k]) return clip(oneLine(k + ': ' + i[k]), 160);
    return clip(oneLine(JSON.stringify(i)), 160);
  }
  function inputText(c) {
    if (c.in === undefined || c.in === null) return '';
    if (typeof c.in === 'string') return c.in;
    return JSON.stringify(c.in, null, 2);
  }

  // ---- Markdown, built as DOM nodes (never as HTML text)
  const redactedRe = /\[REDACTED:[^\]\s]{1,60}\]/g;
  function textNodes(parent, s) {
    redactedRe.lastIndex = 0;
    let last = 0, m;
    while ((m = redactedRe.exec(s))) {
      if (m.index > last) parent.appendChild(doc.createTextNode(s.slice(last, m.index)));
      parent.appendChild(el('span', 'redacted', m[0]));
      last = m.index + m[0].length;
    }
    if (last < s.length) parent.appendChild(doc.createTextNode(s.slice(last)));
  }
  function safeURL(u) {
    return /^(https?:\/\/|mailto:)/i.test(u) ? u : null;
  }
  function link(parent, href, label, auto) {
    const url = safeURL(href);
    if (!url) { textNodes(parent, auto ? href : '[' + label + '](' + href + ')'); return; }
    const a = el('a');
    a.href = url;
    a.rel = 'noopener noreferrer nofollow';
    a.target = '_blank';
    if (auto) textNodes(a, label); else inline(a, label, true);
    parent.appendChild(a);
  }
  const inlineRe = /(`+)([\s\S]*?[^`])\1(?!`)|\*\*(?=\S)([\s\S]*?\S)\*\*|__(?=\S)([\s\S]*?\S)__|~~(?=\S)([\s\S]*?\S)~~|\*(?=[^\s*])([\s\S]*?[^\s*])\*|(?:^|(?<=[\s(]))_(?=[^\s_])([\s\S]*?[^\s_])_(?=$|[\s.,;:!?)])|!?\[([^\]\n]*)\]\(([^()\s]*(?:\([^()\s]*\)[^()\s]*)*)\)|<(https?:\/\/[^\s<>]+)>|(https?:\/\/[^\s<>()[\]]*[^\s<>()[\].,;:!?'"])/g;
  // inline renders a paragraph's spans; inside a link (noLinks) links stay text.
  function inline(parent, s, noLinks) {
    const re = new RegExp(inlineRe.source, 'g');
    let last = 0, m;
    while ((m = re.exec(s))) {
      if (noLinks && (m[8] !== undefined || m[10] !== undefined || m[11] !== undefined)) continue;
      if (m.index > last) textNodes(parent, s.slice(last, m.index));
      if (m[1] !== undefined) parent.appendChild(el('code', null, m[2]));
      else if (m[3] !== undefined) inline(parent.appendChild(el('strong')), m[3], noLinks);
      else if (m[4] !== undefined) inline(parent.appendChild(el('strong')), m[4], noLinks);
      else if (m[5] !== undefined) inline(parent.appendChild(el('del')), m[5], noLinks);
      else if (m[6] !== undefined) inline(parent.appendChild(el('em')), m[6], noLinks);
      else if (m[7] !== undefined) inline(parent.appendChild(el('em')), m[7], noLinks);
      else if (m[8] !== undefined) {
        if (m[0][0] === '!') textNodes(parent, '[image: ' + m[8] + '] ' + m[9]);
        else link(parent, m[9], m[8]);
      } else if (m[10] !== undefined) link(parent, m[10], m[10], true);
      else if (m[11] !== undefined) link(parent, m[11], m[11], true);
      last = m.index + m[0].length;
      if (m[0].length === 0) re.lastIndex++;
    }
    if (last < s.length) textNodes(parent, s.slice(last));
  }
  const fenceRe = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/;
  const headRe = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
  const listRe = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
  const hrRe = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
  const tableSepRe = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;
  function cells(line) {
    let s = line.trim();
    if (s.startsWith('|')) s = s.slice(1);
    if (s.endsWith('|') && !s.endsWith('\\|')) s = s.slice(0, -1);
    return s.split(/(?<!\\)\|/).map((x) => x.trim().replace(/\\\|/g, '|'));
  }
  function markdown(text) {
    const frag = doc.createDocumentFragment();
    const lines = String(text).split('\n');
    let i = 0;
    const blockStart = (l, next) => fenceRe.test(l) || headRe.test(l) || listRe.test(l) || hrRe.test(l) ||
      /^\s*>/.test(l) || (l.includes('|') && next !== undefined && tableSepRe.test(next));
    while (i < lines.length) {
      const line = lines[i];
      let m;
      if (/^\s*$/.test(line)) { i++; continue; }
      if ((m = fenceRe.exec(line))) {
        const fence = m[1];
        const body = [];
        i++;
        while (i < lines.length && !(lines[i].trim().startsWith(fence) && lines[i].trim().replace(/[`~]/g, '') === '')) body.push(lines[i++]);
        i++;
        const pre = el('pre', 'code');
        const code = el('code', null, body.join('\n'));
        if (m[2]) pre.dataset.lang = m[2];
        pre.appendChild(code);
        frag.appendChild(pre);
        continue;
      }
      if ((m = headRe.exec(line))) {
        const h = el('div', 'h h' + m[1].length);
        inline(h, m[2]);
        frag.appendChild(h);
        i++;
        continue;
      }
      if (hrRe.test(line)) { frag.appendChild(el('hr')); i++; continue; }
      if (/^\s*>/.test(line)) {
        const body = [];
        while (i < lines.length && /^\s*>/.test(lines[i])) body.push(lines[i++].replace(/^\s*> ?/, ''));
        const q = el('blockquote');
        q.appendChild(markdown(body.join('\n')));
        frag.appendChild(q);
        continue;
      }
      if (line.includes('|') && i + 1 < lines.length && tableSepRe.test(lines[i + 1])) {
        const table = el('table', 'md');
        const tr = table.appendChild(el('thead')).appendChild(el('tr'));
        for (const c of cells(line)) inline(tr.appendChild(el('th')), c);
        const tb = table.appendChild(el('tbody'));
        i += 2;
        while (i < lines.length && lines[i].includes('|') && !/^\s*$/.test(lines[i])) {
          const r = tb.appendChild(el('tr'));
          for (const c of cells(lines[i])) inline(r.appendChild(el('td')), c);
          i++;
        }
        const wrap = el('div', 'tablewrap');
        wrap.appendChild(table);
        frag.appendChild(wrap);
        continue;
      }
      if ((m = listRe.exec(line))) {
        const ordered = /\d/.test(m[2]);
        const list = el(ordered ? 'ol' : 'ul');
        if (ordered && parseInt(m[2], 10) !== 1) list.start = parseInt(m[2], 10);
        const indent = m[1].length;
        let li = null;
        while (i < lines.length) {
          const l = lines[i];
          const lm = listRe.exec(l);
          if (lm && lm[1].length <= indent + 1 && /\d/.test(lm[2]) === ordered) {
            li = list.appendChild(el('li'));
            inline(li, lm[3]);
            i++;
          } else if (li && !/^\s*$/.test(l) && (/^\s+/.test(l) || !blockStart(l, lines[i + 1]))) {
            // A nested item or a continuation line: kept in the item, as text.
            li.appendChild(doc.createTextNode('\n'));
            const sub = listRe.exec(l);
            if (sub) {
              const span = el('span', 'sub');
              inline(span, sub[2] + ' ' + sub[3]);
              li.appendChild(span);
            } else inline(li, l.trim());
            i++;
          } else break;
        }
        frag.appendChild(list);
        continue;
      }
      const para = [];
      while (i < lines.length && !/^\s*$/.test(lines[i]) && (para.length === 0 || !blockStart(lines[i], lines[i + 1]))) para.push(lines[i++]);
      const p = el('p');
      inline(p, para.join('\n'));
      frag.appendChild(p);
    }
    return frag;
  }

  // ---- header
  function field(dl, name, value, cls) {
    if (value === null || value === undefined || value === '') return null;
    const d = el('div', 'f' + (cls ? ' ' + cls : ''));
    d.appendChild(el('dt', null, name));
    const dd = el('dd');
    if (value instanceof Node) dd.appendChild(value);
    else dd.textContent = String(value);
    d.appendChild(dd);
    dl.appendChild(d);
    return dd;
  }
  function counts() {
    let errors = 0, pending = 0;
    for (const c of callOrder) {
      if (c.st === 'error') errors++;
      else if (c.st === 'pending') pending++;
    }
    return { errors, pending };
  }
  function renderHeader() {
    const h = doc.getElementById('head');
    h.textContent = '';
    const title = el('div', 'title');
    title.appendChild(el('span', 'badge outcome-' + session.outcome, session.outcome === 'running' ? '● running' : session.result));
    title.appendChild(el('h1', null, 'Session ' + session.id));
    h.appendChild(title);
    const dl = el('dl', 'facts');
    field(dl, 'Model', session.model || '(unknown)');
    field(dl, 'Agent', session.agent || '(unknown)');
    field(dl, 'Mode', session.mode);
    field(dl, 'Result', session.result, 'outcome-' + session.outcome);
    field(dl, 'Started', session.start ? fmtLocal(session.start, true) : '(unknown)');
    let dur = session.dur;
    if ((dur === null || dur === undefined) && session.running && session.start) dur = now() - session.start;
    const durDD = field(dl, 'Duration', dur !== null && dur !== undefined ? fmtDur(dur) + (session.running ? ' so far' : '') : (session.end ? '–' : 'no end recorded'));
    if (durDD) durDD.id = 'dur';
    if (session.cost !== null && session.cost !== undefined) {
      const c = el('span');
      c.appendChild(el('span', 'cost-' + session.costKind, (session.costKind === 'estimated' ? '~' : '') + fmtCost(session.cost)));
      c.appendChild(el('span', 'note', ' ' + session.costKind + (session.costNote ? ': ' + session.costNote : '')));
      field(dl, 'Cost', c);
    } else field(dl, 'Cost', session.costNote ? '(unknown: ' + session.costNote + ')' : '(unknown)');
    const t = session.tokens;
    field(dl, 'Tokens', t ? fmtInt(t.in) + ' in · ' + fmtInt(t.out) + ' out · ' + fmtInt(t.cacheWrite) + ' cache write · ' + fmtInt(t.cacheRead) + ' cache read' : '(unknown)');
    field(dl, 'Messages', session.messages !== null && session.messages !== undefined ? fmtInt(session.messages) + (hidden ? ' (' + fmtInt(hidden) + ' partial-message events not shown)' : '') : null);
    const n = counts();
    field(dl, 'Tool calls', fmtInt(callOrder.length) + (n.pending ? ' (' + n.pending + ' pending)' : ''));
    field(dl, 'Errors', fmtInt(n.errors), n.errors ? 'has-errors' : '');
    field(dl, 'Turns', session.turns);
    field(dl, 'CWD', session.cwd);
    if (session.repo || session.runId) {
      const g = el('span');
      const label = (session.repo || '') + (session.runId ? ' run ' + session.runId : '');
      if (session.runUrl && /^https:\/\/github\.com\//.test(session.runUrl)) {
        const a = el('a', null, label);
        a.href = session.runUrl;
        a.rel = 'noopener noreferrer';
        a.target = '_blank';
        g.appendChild(a);
      } else g.textContent = label;
      if (session.ref) g.appendChild(el('span', 'note', ' ' + session.ref));
      field(dl, 'GitHub', g);
    }
    field(dl, 'Branch', session.branch);
    field(dl, 'Agent session', session.agentSessionId);
    if (session.redactions) field(dl, 'Redactions', fmtInt(session.redactions) + (session.redactions === 1 ? ' secret' : ' secrets') + ' replaced by [REDACTED:…]');
    if (session.linesDropped) field(dl, 'Not logged', fmtInt(session.linesDropped) + ' input lines', 'has-errors');
    h.appendChild(dl);
  }

  // ---- timeline
  const ROW = 14, GAP = 4, TOP = 26, TICKS = 10, LABEL = 150;
  let tl = null; // { svg, t0, t1, px, rows }
  function timeRange() {
    let lo = Infinity, hi = -Infinity;
    for (const c of callOrder) {
      if (!c.t0) continue;
      lo = Math.min(lo, c.t0);
      hi = Math.max(hi, callEnd(c) || c.t0);
    }
    for (const it of items) if (it.t) { lo = Math.min(lo, it.t); hi = Math.max(hi, it.t); }
    if (session.start) lo = Math.min(lo, session.start);
    if (session.end) hi = Math.max(hi, session.end);
    if (session.running) hi = Math.max(hi, now());
    if (!isFinite(lo)) return null;
    if (hi <= lo) hi = lo + 1000;
    return [lo, hi];
  }
  function groupsOf() {
    const by = new Map();
    for (const c of callOrder) {
      if (!c.t0) continue;
      const key = c.p ? c.p : c.sc ? '~sidechain' : '';
      if (!by.has(key)) by.set(key, []);
      by.get(key).push(c);
    }
    const groups = [];
    const seen = new Set();
    function add(key, depth, label, parent) {
      if (seen.has(key)) return;
      seen.add(key);
      const list = by.get(key) || [];
      if (!list.length && key !== '') return;
      groups.push({ key, depth, label, list, parent });
      for (const c of list) if (by.has(c.id)) add(c.id, depth + 1, c.n + ': ' + digest(c), c);
    }
    add('', 0, 'tool calls', null);
    if (by.has('~sidechain')) add('~sidechain', 1, 'sidechain (sub-agent)', null);
    for (const key of by.keys()) add(key, 1, 'sub-agent of ' + key, null);
    return groups;
  }
  function visibleCall(c) {
    if (filters.hideSub && isSub(c)) return false;
    return true;
  }
  function dimmed(c) {
    if (filters.errors && c.st !== 'error') return true;
    if (filters.tool && c.n !== filters.tool) return true;
    return false;
  }
  function drawTimeline() {
    const box = doc.getElementById('tl-scroll');
    const range = timeRange();
    box.textContent = '';
    barEl.clear();
    const note = doc.getElementById('tl-note');
    const untimed = callOrder.filter((c) => !c.t0).length;
    note.textContent = untimed ? untimed + ' tool calls have no recorded time and are not drawn.' : '';
    if (!range) { tl = null; box.appendChild(el('p', 'empty', 'No times recorded: nothing to draw.')); return; }
    let [t0, t1] = range;
    if (session.running) t1 = t0 + (t1 - t0) * 1.1 + 5000; // room to grow
    const width = Math.max(400, (box.clientWidth || 900) - 2) * zoom;
    const px = (width - LABEL - 10) / (t1 - t0);
    const x = (t) => LABEL + (t - t0) * px;
    const s = svg('svg', { class: 'tl', width: width });
    // message marks, one per pixel column at most
    const marks = new Map();
    for (const it of items) {
      if (!it.t || (filters.hideSub && (it.p || it.sc))) continue;
      const col = Math.round(x(it.t));
      const kind = it.k === 'assistant' ? (it.b && it.b.some((b) => b.k === 'text') ? 'text' : it.b && it.b.some((b) => b.k === 'thinking') ? 'thinking' : null) : it.k === 'user' ? 'user' : it.k === 'result' ? 'result' : null;
      if (kind && !marks.has(col)) marks.set(col, kind);
    }
    for (const [col, kind] of marks) s.appendChild(svg('rect', { class: 'mark mark-' + kind, x: col, y: TOP - 10, width: 1.5, height: 8 }));
    s.appendChild(svg('text', { class: 'lane', x: 4, y: TOP - 3 })).textContent = 'messages';
    let y = TOP + 4;
    const groups = groupsOf();
    for (const g of groups) {
      if (g.depth > 0 && filters.hideSub) continue;
      const rows = [];
      const sorted = g.list.slice().sort((a, b) => a.t0 - b.t0);
      const placed = [];
      for (const c of sorted) {
        const a = x(c.t0), b = Math.max(x(callEnd(c) || c.t0), a + 2);
        let r = rows.findIndex((end) => end <= a - 1);
        if (r < 0) { r = rows.length; rows.push(b); } else rows[r] = b;
        placed.push([c, r, a, b]);
      }
      const nrows = Math.max(rows.length, 1);
      const lab = svg('text', { class: 'lane' + (g.depth ? ' sub' : ''), x: 4 + Math.min(g.depth, 4) * 8, y: y + ROW - 3 });
      lab.textContent = clip(g.label, 22);
      lab.appendChild(svg('title', {})).textContent = g.label;
      s.appendChild(lab);
      if (g.parent && g.parent.t0) {
        s.appendChild(svg('rect', { class: 'bracket', x: x(g.parent.t0), y: y - 2, width: Math.max(x(callEnd(g.parent) || g.parent.t0) - x(g.parent.t0), 2), height: nrows * (ROW + GAP) + 2 }));
      }
      for (const [c, r, a, b] of placed) {
        const rect = svg('rect', {
          class: 'bar status-' + c.st + (isSub(c) ? ' sub' : '') + (dimmed(c) ? ' dim' : ''),
          x: Math.round(a * 10) / 10, y: y + r * (ROW + GAP), width: Math.round((b - a) * 10) / 10, height: ROW,
        });
        rect.dataset.id = c.id;
        s.appendChild(rect);
        barEl.set(c.id, rect);
      }
      y += nrows * (ROW + GAP) + 6;
    }
    // axis
    const step = niceStep((t1 - t0) / Math.max(2, Math.floor((width - LABEL) / 110)));
    for (let t = 0; t <= t1 - t0; t += step) {
      s.appendChild(svg('line', { class: 'grid', x1: x(t0 + t), x2: x(t0 + t), y1: TOP - 12, y2: y }));
      s.appendChild(svg('text', { class: 'tick', x: x(t0 + t) + 2, y: 10 })).textContent = '+' + fmtDur(t);
    }
    s.setAttribute('height', y + 4);
    box.appendChild(s);
    tl = { svg: s, t0, t1, px, x };
  }
  function niceStep(ms) {
    const steps = [100, 250, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 900000, 1800000, 3600000, 7200000, 10800000, 21600000, 43200000, 86400000];
    for (const s of steps) if (s >= ms) return s;
    return 86400000 * Math.ceil(ms / 86400000);
  }
  // While the session runs, pending bars grow with the clock.
  function growPending() {
    if (!tl || !session.running) return;
    if (now() > tl.t1) { drawTimeline(); return; }
    for (const c of callOrder) {
      if (c.st !== 'pending') continue;
      const r = barEl.get(c.id);
      if (!r) continue;
      const a = tl.x(c.t0);
      r.setAttribute('width', Math.max(tl.x(now()) - a, 2).toFixed(1));
    }
    const d = doc.getElementById('dur');
    if (d && session.start && (session.dur === null || session.dur === undefined)) d.textContent = fmtDur(now() - session.start) + ' so far';
  }

  const tip = () => doc.getElementById('tip');
  function showTip(ev, c) {
    const t = tip();
    t.textContent = '';
    t.appendChild(el('b', null, c.n || '(unnamed tool)'));
    t.appendChild(el('span', 'st status-' + c.st, ' ' + c.st));
    const d = c.d !== null && c.d !== undefined ? c.d : c.st === 'pending' && c.t0 ? now() - c.t0 : null;
    t.appendChild(el('div', null, d !== null ? fmtDur(d) + (c.st === 'pending' ? ' so far' : '') : 'duration unknown'));
    const dg = digest(c);
    if (dg) t.appendChild(el('div', 'dg', dg));
    if (isSub(c)) t.appendChild(el('div', 'note', 'sub-agent call'));
    t.hidden = false;
    const r = doc.getElementById('timeline').getBoundingClientRect();
    t.style.left = Math.min(ev.clientX - r.left + 12, r.width - 320) + 'px';
    t.style.top = (ev.clientY - r.top + 14) + 'px';
  }

  // ---- conversation
  const conv = () => doc.getElementById('conv');
  function itemFlags(it) {
    let err = false;
    const tools = [];
    if (it.b) for (const b of it.b) {
      if (b.k === 'tool') {
        const c = calls.get(b.i);
        if (c) { tools.push(c.n); if (c.st === 'error') err = true; }
      } else if (b.k === 'result' && b.e) err = true;
    }
    if (it.k === 'result' && it.r && it.r.err) err = true;
    if (it.k === 'raw') err = true;
    return { err, tools };
  }
  function roleLabel(it) {
    switch (it.k) {
      case 'user': return it.p || it.sc ? 'sub-agent prompt' : 'user';
      case 'assistant': return it.p || it.sc ? 'sub-agent' : 'assistant';
      case 'system': return 'system' + (it.l ? ' · ' + it.l : '');
      case 'result': return 'result' + (it.l ? ' · ' + it.l : '');
      case 'raw': return 'line that is not JSON';
      default: return it.l || it.k;
    }
  }
  function renderItem(it, prev) {
    const d = el('div', 'msg k-' + it.k);
    d.id = 'm' + it.s;
    if (it.p || it.sc) d.classList.add('sub');
    const f = itemFlags(it);
    if (f.err) d.classList.add('has-error');
    d.dataset.tools = f.tools.join('\n');
    const cont = prev && prev.k === it.k && it.a && prev.a === it.a;
    if (cont) d.classList.add('cont');
    const hd = el('div', 'hd');
    hd.appendChild(el('span', 'role', roleLabel(it)));
    if (it.ab) hd.appendChild(el('span', 'badge outcome-error', 'aborted'));
    if (it.t) {
      const tm = el('span', 'time', fmtLocal(it.t));
      tm.title = fmtLocal(it.t, true);
      hd.appendChild(tm);
      if (session.start) hd.appendChild(el('span', 'rel', '+' + fmtDur(it.t - session.start)));
    }
    hd.appendChild(el('span', 'seq', '#' + it.s));
    d.appendChild(hd);
    if (it.k === 'system' || it.k === 'other') {
      d.appendChild(el('div', 'digest', it.x || ''));
      return d;
    }
    if (it.k === 'raw') {
      d.appendChild(el('pre', 'raw', clip(it.x || '', 5000)));
      return d;
    }
    if (it.k === 'result') {
      const r = it.r || {};
      const facts = [];
      if (r.err) facts.push('is_error');
      if (r.turns !== undefined) facts.push(r.turns + ' turns');
      if (r.dur !== undefined) facts.push(fmtDur(r.dur));
      if (r.cost !== undefined) facts.push(fmtCost(r.cost));
      d.appendChild(el('div', 'digest', facts.join(' · ')));
      if (it.x) { const body = el('div', 'md'); body.appendChild(markdown(it.x)); d.appendChild(body); }
      if (r.errors) for (const e of r.errors) d.appendChild(el('pre', 'error-text', e));
      return d;
    }
    for (const b of it.b || []) d.appendChild(renderBlock(b, it));
    return d;
  }
  function renderBlock(b, it) {
    switch (b.k) {
      case 'text': {
        const t = el('div', 'md');
        t.appendChild(markdown(b.x || ''));
        return t;
      }
      case 'thinking': return lazyDetails('thinking', 'thinking · ' + fmtInt((b.x || '').length) + ' chars', () => {
        const t = el('div', 'md');
        t.appendChild(markdown(b.x || ''));
        return t;
      });
      case 'tool': return renderCall(b.i);
      case 'result': {
        const dt = lazyDetails('orphan' + (b.e ? ' status-error' : ''), 'result of ' + b.i + (b.e ? ' (error)' : '') + ' · ' + fmtSize((b.x || '').length), () => outputBox(b.x || '', b.e));
        return dt;
      }
      case 'image': return el('div', 'note', '[' + (b.x || 'image') + ' not shown]');
      default: return el('div', 'note', '[' + (b.x || b.k) + ' block]');
    }
  }
  function lazyDetails(cls, summary, body) {
    const d = el('details', cls);
    d.appendChild(el('summary', null, summary));
    let filled = false;
    d.addEventListener('toggle', () => {
      if (d.open && !filled) { filled = true; d.appendChild(body()); }
    });
    return d;
  }
  const CUT = 4000;
  // A picture a tool returned (Read of an image, a browser's screenshot) is
  // a line of its own in the output: a JSON block of base64, Anthropic's
  // {type, source: {type: base64, media_type, data}} or MCP's {type, data,
  // mimeType}. It is shown as the picture, from a data: URL of its bytes;
  // only raster types are, and only data that is base64 through and
  // through (an SVG could carry script; nothing else may reach the URL).
  function imageURL(line) {
    if (line[0] !== '{' || line.indexOf('"image"') < 0) return null;
    let v;
    try { v = JSON.parse(line); } catch (e) { return null; }
    if (!v || v.type !== 'image') return null;
    const src = v.source && typeof v.source === 'object' ? v.source : v;
    const type = src.media_type || src.mimeType;
    if ((v.source && src.type !== 'base64') || typeof src.data !== 'string' || typeof type !== 'string' ||
        !/^image\/(png|jpeg|gif|webp)$/.test(type) || !/^[A-Za-z0-9+\/]+={0,2}$/.test(src.data)) return null;
    return { url: 'data:' + type + ';base64,' + src.data, type: type };
  }
  function outputBox(text, isErr) {
    const wrap = el('div', 'out');
    if (text.indexOf('"image"') >= 0) {
      const lines = text.split('\n'), pics = [];
      for (let i = 0; i < lines.length; i++) {
        const img = imageURL(lines[i]);
        if (!img) continue;
        const pic = el('img', 'pic');
        pic.alt = 'image ' + img.type;
        pic.src = img.url;
        pics.push(pic);
        lines[i] = '[image ' + img.type + ']';
      }
      if (pics.length) {
        text = lines.join('\n');
        pics.forEach(p => wrap.appendChild(p));
      }
    }
    const pre = el('pre', isErr ? 'error-text' : null);
    if (text.length > CUT) {
      textNodes(pre, text.slice(0, CUT));
      const more = el('button', 'more', 'show all ' + fmtInt(text.length) + ' characters (' + fmtInt(text.length - CUT) + ' more)');
      more.type = 'button';
      more.addEventListener('click', () => { pre.textContent = ''; textNodes(pre, text); more.remove(); });
      wrap.appendChild(pre);
      wrap.appendChild(more);
    } else {
      textNodes(pre, text);
      wrap.appendChild(pre);
    }
    return wrap;
  }
  function callSummary(c, s) {
    s.textContent = '';
    s.appendChild(el('span', 'st status-' + c.st, c.st === 'success' ? '✓' : c.st === 'error' ? '✗' : '…'));
    s.appendChild(el('b', 'name', c.n || '(unnamed tool)'));
    s.appendChild(el('span', 'dg', digest(c)));
    const d = c.d !== null && c.d !== undefined ? fmtDur(c.d) : c.st === 'pending' ? 'running' : '';
    s.appendChild(el('span', 'dur', d));
    const sizes = 'in ' + fmtSize(inputText(c).length) + (c.out !== undefined && c.out !== null ? ' · out ' + fmtSize(c.out.length) : '');
    s.appendChild(el('span', 'size', sizes));
  }
  function renderCall(id) {
    const c = calls.get(id);
    if (!c) return el('div', 'note', 'tool_use ' + id + ' (no tool call recorded)');
    const d = el('details', 'call status-' + c.st + (isSub(c) ? ' sub' : ''));
    d.id = 'call-' + c._i;
    d.dataset.id = c.id;
    const s = el('summary');
    callSummary(c, s);
    d.appendChild(s);
    d.addEventListener('toggle', () => { if (d.open && !d.dataset.filled) fillCall(d, c); });
    callEl.set(c.id, d);
    return d;
  }
  function fillCall(d, c) {
    d.dataset.filled = '1';
    const body = el('div', 'body');
    body.appendChild(el('div', 'label', 'input · ' + fmtSize(inputText(c).length)));
    if (c.n === 'Bash' && c.in && typeof c.in.command === 'string') body.appendChild(el('pre', 'cmd', c.in.command));
    body.appendChild(el('pre', 'json', clip(inputText(c), 200000)));
    if (c.err !== undefined && c.err !== null) {
      body.appendChild(el('div', 'label', 'error · ' + fmtSize(c.err.length)));
      body.appendChild(outputBox(c.err, true));
    }
    if (c.out !== undefined && c.out !== null) {
      body.appendChild(el('div', 'label', (c.st === 'error' ? 'output (error)' : 'output') + ' · ' + fmtSize(c.out.length)));
      body.appendChild(outputBox(c.out, c.st === 'error'));
    } else if (c.st === 'pending') body.appendChild(el('div', 'note', session.running ? 'no result yet' : 'no result was logged'));
    const meta = [];
    if (c.t0) meta.push('started ' + fmtLocal(c.t0, true));
    if (c.t1) meta.push('result ' + fmtLocal(c.t1));
    meta.push('id ' + c.id);
    body.appendChild(el('div', 'note', meta.join(' · ')));
    d.appendChild(body);
  }
  function updateCall(c) {
    const d = callEl.get(c.id);
    if (d) {
      d.className = 'call status-' + c.st + (isSub(c) ? ' sub' : '');
      callSummary(c, d.querySelector('summary'));
      if (d.dataset.filled) { d.querySelector('.body').remove(); delete d.dataset.filled; if (d.open) fillCall(d, c); }
      const m = d.closest('.msg');
      if (m && c.st === 'error') m.classList.add('has-error');
    }
  }

  const CHUNK = 200;
  function renderMore(upTo) {
    const box = conv();
    const end = Math.min(items.length, upTo === undefined ? rendered + CHUNK : Math.max(upTo + 1, rendered));
    if (end <= rendered) return;
    const frag = doc.createDocumentFragment();
    for (let i = rendered; i < end; i++) {
      const e = renderItem(items[i], items[i - 1]);
      applyFilter(e);
      frag.appendChild(e);
    }
    rendered = end;
    box.appendChild(frag);
  }
  function renderRest() {
    if (rendered >= items.length) {
      doc.documentElement.dataset.renderedAt = performance.now().toFixed(1);
      doc.documentElement.dataset.rendered = '1';
      return;
    }
    renderMore();
    setTimeout(renderRest, 0);
  }

  // ---- filters
  function applyFilter(e) {
    let show = true;
    if (filters.hideSub && e.classList.contains('sub')) show = false;
    if (show && filters.errors && !e.classList.contains('has-error')) show = false;
    if (show && filters.tool && !e.dataset.tools.split('\n').includes(filters.tool)) show = false;
    e.hidden = !show;
  }
  function applyFilters() {
    for (const e of conv().children) applyFilter(e);
    for (const [id, d] of callEl) {
      const c = calls.get(id);
      d.hidden = (filters.hideSub && isSub(c)) || (filters.tool && c.n !== filters.tool) || (filters.errors && c.st !== 'error');
    }
    drawTimeline();
  }
  function renderFilters() {
    const f = doc.getElementById('filters');
    f.textContent = '';
    const mk = (label, key) => {
      const l = el('label');
      const cb = el('input');
      cb.type = 'checkbox';
      cb.id = 'f-' + key;
      cb.checked = filters[key];
      cb.addEventListener('change', () => { filters[key] = cb.checked; applyFilters(); });
      l.appendChild(cb);
      l.appendChild(doc.createTextNode(' ' + label));
      f.appendChild(l);
    };
    mk('errors only', 'errors');
    const sel = el('select');
    sel.id = 'f-tool';
    sel.appendChild(el('option', null, 'all tools')).value = '';
    const names = new Map();
    for (const c of callOrder) names.set(c.n, (names.get(c.n) || 0) + 1);
    for (const [n, k] of [...names].sort((a, b) => b[1] - a[1])) {
      const o = el('option', null, n + ' (' + k + ')');
      o.value = n;
      sel.appendChild(o);
    }
    sel.value = filters.tool;
    sel.addEventListener('change', () => { filters.tool = sel.value; applyFilters(); });
    const l = el('label', null, 'tool ');
    l.appendChild(sel);
    f.appendChild(l);
    mk('hide sub-agents', 'hideSub');
  }

  // ---- navigation
  function goToCall(id) {
    const c = calls.get(id);
    if (!c) return;
    if (!callEl.has(id)) {
      const idx = items.findIndex((it) => it.b && it.b.some((b) => b.k === 'tool' && b.i === id));
      if (idx >= 0) renderMore(idx);
    }
    const d = callEl.get(id);
    if (!d) return;
    if (d.hidden || d.closest('.msg').hidden) {
      filters.errors = false; filters.tool = ''; filters.hideSub = false;
      renderFilters();
      applyFilters();
    }
    if (!d.dataset.filled) fillCall(d, c);
    d.open = true;
    d.scrollIntoView({ block: 'center' });
    d.classList.remove('flash');
    void d.offsetWidth;
    d.classList.add('flash');
  }

  // ---- live
  function startLive() {
    if (!D.live || !window.EventSource) return;
    let after = D.live.after, callAfter = D.live.callAfter;
    const url = D.live.url + (D.live.url.includes('?') ? '&' : '?') + 'after=' + after + '&calls=' + callAfter;
    const root = doc.documentElement;
    liveSource = new EventSource(url);
    liveSource.addEventListener('open', () => { root.dataset.live = 'open'; });
    liveSource.addEventListener('delta', (ev) => {
      const d = JSON.parse(ev.data);
      applyDelta(d);
      if (d.ended) { liveSource.close(); liveSource = null; root.dataset.live = 'ended'; }
    });
    liveSource.addEventListener('gone', () => {
      root.dataset.live = 'gone';
      session.running = false;
      if (session.outcome === 'running') { session.outcome = 'incomplete'; session.result = 'incomplete (the logger stopped)'; }
      renderHeader();
      drawTimeline();
      liveSource.close();
      liveSource = null;
    });
  }
  function applyDelta(d) {
    clockSkew = d.now - Date.now();
    session = d.session;
    hidden += d.hidden || 0;
    let newTool = false;
    for (const c of d.calls) {
      const known = calls.has(c.id);
      addCall(c);
      if (known) updateCall(calls.get(c.id)); else newTool = true;
    }
    const atBottom = window.innerHeight + window.scrollY >= doc.body.scrollHeight - 40;
    for (const it of d.items) items.push(it);
    if (rendered >= items.length - d.items.length) renderMore(items.length - 1);
    // a card may name a call that arrives later; refresh it
    for (const c of d.calls) updateCall(calls.get(c.id));
    renderHeader();
    if (newTool) renderFilters();
    drawTimeline();
    doc.documentElement.dataset.updates = String(Number(doc.documentElement.dataset.updates || 0) + 1);
    if (atBottom && d.items.length) window.scrollTo(0, doc.body.scrollHeight);
  }

  // ---- start
  function init() {
    renderHeader();
    const timeline = doc.getElementById('timeline');
    const bar = el('div', 'tl-bar');
    bar.appendChild(el('span', 'tl-title', 'Timeline'));
    for (const [label, f] of [['−', () => zoom / 2], ['+', () => zoom * 2], ['fit', () => 1]]) {
      const b = el('button', null, label);
      b.type = 'button';
      b.addEventListener('click', () => { zoom = Math.min(256, Math.max(1, f())); drawTimeline(); });
      bar.appendChild(b);
    }
    const legend = el('span', 'legend');
    for (const [cls, text] of [['status-success', 'success'], ['status-error', 'error'], ['status-pending', 'pending'], ['mark-text', 'text'], ['mark-thinking', 'thinking'], ['mark-user', 'user']]) {
      legend.appendChild(el('i', cls));
      legend.appendChild(doc.createTextNode(text + ' '));
    }
    bar.appendChild(legend);
    timeline.appendChild(bar);
    timeline.appendChild(el('div', 'note')).id = 'tl-note';
    const scroll = timeline.appendChild(el('div'));
    scroll.id = 'tl-scroll';
    const t = timeline.appendChild(el('div'));
    t.id = 'tip';
    t.hidden = true;
    scroll.addEventListener('mousemove', (ev) => {
      const id = ev.target && ev.target.dataset ? ev.target.dataset.id : null;
      if (id && calls.has(id)) showTip(ev, calls.get(id)); else tip().hidden = true;
    });
    scroll.addEventListener('mouseleave', () => { tip().hidden = true; });
    scroll.addEventListener('click', (ev) => {
      const id = ev.target && ev.target.dataset ? ev.target.dataset.id : null;
      if (id) goToCall(id);
    });
    renderFilters();
    drawTimeline();
    renderMore(Math.min(items.length, 150) - 1);
    // Interactive once the first screen is painted: a frame, then a task.
    requestAnimationFrame(() => setTimeout(() => {
      doc.documentElement.dataset.readyAt = performance.now().toFixed(1);
      doc.documentElement.dataset.ready = '1';
      renderRest();
    }, 0));
    let rt = null;
    window.addEventListener('resize', () => { clearTimeout(rt); rt = setTimeout(drawTimeline, 150); });
    setInterval(growPending, 250);
    startLive();
  }
  init();
})();
