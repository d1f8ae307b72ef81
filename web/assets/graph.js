// twinflow's dashboard: the lineage graph, laid out in layers left to right
// (sources to models). A layer with more than `groupOver` nodes of a kind is
// folded into one node per group (documents by platform, versions by
// artifact, attempts by step, models by name); clicking a group unfolds it,
// clicking a node opens its page. Nodes are focusable and open with Enter.
'use strict';

const kindColours = { document: '#f5f5f5', version: '#eef3ff', step_run: '#e8f5e9', model: '#d8f3dc', url: '#fff8e1', group: '#fff3cd' };

function nodeLabel(n) {
  switch (n.kind) {
    case 'version': return (n.artifact || 'artifact') + ' v' + (n.version ?? '?');
    case 'step_run': return (n.step_id || 'step') + ' · run ' + (n.run_id ?? '?') + (n.attempt > 1 ? ' #' + n.attempt : '');
    case 'document': return n.title || n.url || 'document ' + (n.document_id ?? '');
    case 'model': return (n.model || 'model') + ' v' + (n.version ?? '?') + (n.stage ? ' (' + n.stage + ')' : '');
    default: return n.label || n.url || n.name || n.id;
  }
}
function nodeHref(n) {
  switch (n.kind) {
    case 'version': return n.artifact ? '/artifacts/' + enc(n.artifact) + '/' + n.version : null;
    case 'step_run': return n.run_id ? '/runs/' + n.run_id : null;
    case 'document': return n.document_id ? '/documents/' + n.document_id : null;
    case 'model': return n.model ? '/models/' + enc(n.model) : null;
    default: return null;
  }
}
function groupKey(n) {
  switch (n.kind) {
    case 'document': return n.platform || (n.url || '').replace(/^https?:\/\/([^/]+).*$/, '$1') || 'documents';
    case 'version': return n.artifact || 'versions';
    case 'step_run': return n.step_id || 'attempts';
    case 'model': return n.model || 'models';
    default: return n.kind || 'nodes';
  }
}

// The longest-path layer of every node from the sources (cycles cut).
function layers(nodes, edges) {
  const incoming = new Map(nodes.map((n) => [n.id, []]));
  for (const e of edges) if (incoming.has(e.to) && incoming.has(e.from)) incoming.get(e.to).push(e.from);
  const layer = new Map();
  const visiting = new Set();
  const depth = (id) => {
    if (layer.has(id)) return layer.get(id);
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let d = 0;
    for (const from of incoming.get(id) || []) d = Math.max(d, depth(from) + 1);
    visiting.delete(id);
    layer.set(id, d);
    return d;
  };
  for (const n of nodes) depth(n.id);
  return layer;
}

function lineageGraph(data, options) {
  options = options || {};
  const groupOver = options.groupOver || 12;
  const expanded = new Set();
  const box = el('div', { class: 'lineage', id: 'lineage' });
  const draw = () => {
    const nodes = data.nodes || [], edges = data.edges || [];
    const layer = layers(nodes, edges);
    // Fold big layers: per layer and kind, groups over the threshold.
    const shown = new Map(); // node id -> shown id
    const shownNodes = [];
    const byLayerKind = new Map();
    for (const n of nodes) {
      const k = layer.get(n.id) + '|' + n.kind;
      if (!byLayerKind.has(k)) byLayerKind.set(k, []);
      byLayerKind.get(k).push(n);
    }
    for (const [k, list] of byLayerKind) {
      const fold = list.length > groupOver;
      const groups = new Map();
      const sizes = new Map();
      for (const n of list) sizes.set(groupKey(n), (sizes.get(groupKey(n)) || 0) + 1);
      for (const n of list) {
        const g = 'g:' + k + ':' + groupKey(n);
        if (fold && !expanded.has(g) && sizes.get(groupKey(n)) > 1) {
          if (!groups.has(g)) groups.set(g, { id: g, kind: 'group', of: n.kind, key: groupKey(n), count: 0, layer: layer.get(n.id) });
          groups.get(g).count++;
          shown.set(n.id, g);
        } else {
          shown.set(n.id, n.id);
          shownNodes.push(Object.assign({ layer: layer.get(n.id), group: fold ? g : null }, n));
        }
      }
      for (const g of groups.values()) shownNodes.push(g);
    }
    const shownEdges = new Map();
    for (const e of edges) {
      const a = shown.get(e.from), b = shown.get(e.to);
      if (a && b && a !== b) shownEdges.set(a + '>' + b, { from: a, to: b });
    }
    const columns = [];
    for (const n of shownNodes) (columns[n.layer] = columns[n.layer] || []).push(n);
    const colW = 230, nodeW = 200, rowH = 34, nodeH = 26, pad = 10;
    const height = Math.max(...columns.map((c) => (c ? c.length : 0)), 1) * rowH + 2 * pad;
    const width = columns.length * colW + pad;
    const pos = new Map();
    columns.forEach((col, i) => (col || []).forEach((n, j) => {
      const offset = (height - 2 * pad - col.length * rowH) / 2;
      pos.set(n.id, { x: pad + i * colW, y: pad + offset + j * rowH });
    }));
    const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'lineage-svg', role: 'group', 'aria-label': 'lineage graph' });
    for (const e of shownEdges.values()) {
      const a = pos.get(e.from), b = pos.get(e.to);
      if (!a || !b) continue;
      const x1 = a.x + nodeW, y1 = a.y + nodeH / 2, x2 = b.x, y2 = b.y + nodeH / 2, mid = (x1 + x2) / 2;
      root.appendChild(svg('path', { d: `M${x1} ${y1} C${mid} ${y1} ${mid} ${y2} ${x2} ${y2}`, class: 'edge' }));
    }
    for (const n of shownNodes) {
      const p = pos.get(n.id);
      const isGroup = n.kind === 'group';
      const label = isGroup ? `${n.key}: ${n.count} ${n.of.replace('_', ' ')}s (expand)` : nodeLabel(n);
      const href = isGroup ? null : nodeHref(n);
      const g = svg('g', { class: 'node kind-' + n.kind + (n.id === data.root ? ' root' : ''), transform: `translate(${p.x},${p.y})`, tabindex: 0,
        role: isGroup ? 'button' : 'link', 'aria-label': label, 'data-id': n.id });
      g.appendChild(svg('title', {}, label + (n.url ? '\n' + n.url : '')));
      g.appendChild(svg('rect', { width: nodeW, height: nodeH, rx: n.kind === 'document' ? 12 : 3, fill: n.id === data.root ? '#ffe08a' : kindColours[n.kind] || '#fff', stroke: n.kind === 'step_run' ? statusColours[n.status] || '#888' : '#888' }));
      g.appendChild(svg('text', { x: 6, y: 17, class: 'node-label' }, label.length > 32 ? label.slice(0, 31) + '…' : label));
      const activate = () => {
        if (isGroup) { expanded.add(n.id); draw(); } else if (href) location.hash = href;
      };
      g.addEventListener('click', activate);
      g.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); activate(); } });
      root.appendChild(g);
    }
    const folded = [...expanded];
    box.replaceChildren(el('div', { class: 'scroll graph' }, root),
      folded.length ? el('button', { type: 'button', onclick: () => { expanded.clear(); draw(); } }, 'Collapse groups') : '',
      el('div', { class: 'legend' }, Object.entries(kindColours).map(([k, c]) => { const sw = el('i', { class: 'swatch' }); sw.style.background = c; return el('span', {}, sw, k.replace('_', ' ')); })));
  };
  draw();
  return box;
}
