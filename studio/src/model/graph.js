// The flow as plain data, and the checks on it. A graph is
//   {id, name, desc, root, nodes: [{id, plugin, conf, position: {x, y}}],
//    edges: [{id, source, target, condition}]}
// where `condition` is the text the server stores ("" the default branch) and `root` a node id.

import { conditionError } from './conditions.js';

export function emptyGraph(id = '') {
  return { id, name: '', desc: '', root: null, nodes: [], edges: [] };
}

export function edgeId(source, target, condition) {
  return `${source}->${target}:${condition}`;
}

/** Ids a node cannot have: `root` is the DAG's own key in `rule`. */
export const RESERVED_IDS = new Set(['root']);

/** A node id not yet in the graph, from the plugin's name: `key-auth`, `key-auth-2`, ... */
export function freshNodeId(graph, plugin) {
  const base = plugin.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 60) || 'node';
  const taken = new Set([...graph.nodes.map((n) => n.id), ...RESERVED_IDS]);
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}

export function addNode(graph, plugin, position = { x: 0, y: 0 }, conf = {}) {
  const id = freshNodeId(graph, plugin);
  return {
    ...graph,
    root: graph.root ?? id,
    nodes: [...graph.nodes, { id, plugin, conf, position }],
  };
}

export function connect(graph, source, target, condition = '') {
  const c = condition.trim();
  const id = edgeId(source, target, c);
  if (graph.edges.some((e) => e.id === id)) return graph;
  return { ...graph, edges: [...graph.edges, { id, source, target, condition: c }] };
}

export function setCondition(graph, id, condition) {
  const c = condition.trim();
  return {
    ...graph,
    edges: graph.edges.map((e) => (e.id === id ? { ...e, condition: c, id: edgeId(e.source, e.target, c) } : e)),
  };
}

/** Removes nodes (and their edges) and edges; the root moves to the first node left if it went. */
export function remove(graph, { nodes = [], edges = [] }) {
  const goneNodes = new Set(nodes);
  const goneEdges = new Set(edges);
  const left = graph.nodes.filter((n) => !goneNodes.has(n.id));
  return {
    ...graph,
    root: goneNodes.has(graph.root) ? (left[0]?.id ?? null) : graph.root,
    nodes: left,
    edges: graph.edges.filter((e) => !goneEdges.has(e.id) && !goneNodes.has(e.source) && !goneNodes.has(e.target)),
  };
}

export function updateNode(graph, id, change) {
  return { ...graph, nodes: graph.nodes.map((n) => (n.id === id ? { ...n, ...change } : n)) };
}

/**
 * Copies `ids` (and the edges between them) with fresh ids, moved by `offset`; returns
 * {graph, ids} with the new nodes' ids.
 */
export function paste(graph, clip, offset = { x: 40, y: 40 }) {
  let g = graph;
  const renamed = new Map();
  for (const n of clip.nodes) {
    const id = freshNodeId(g, n.plugin);
    renamed.set(n.id, id);
    g = {
      ...g,
      root: g.root ?? id,
      nodes: [...g.nodes, { id, plugin: n.plugin, conf: structuredClone(n.conf), position: { x: n.position.x + offset.x, y: n.position.y + offset.y } }],
    };
  }
  for (const e of clip.edges) {
    if (renamed.has(e.source) && renamed.has(e.target)) g = connect(g, renamed.get(e.source), renamed.get(e.target), e.condition);
  }
  return { graph: g, ids: [...renamed.values()] };
}

/** The part of the graph made of `ids` and the edges between them. */
export function copy(graph, ids) {
  const set = new Set(ids);
  return {
    nodes: graph.nodes.filter((n) => set.has(n.id)),
    edges: graph.edges.filter((e) => set.has(e.source) && set.has(e.target)),
  };
}

/**
 * Everything wrong with the graph, each on the node or edge at fault:
 * [{on: 'graph'|'node'|'edge', id, severity: 'error'|'warning', message}].
 * `plugins`, when given, is the set of plugin names the server knows.
 */
export function validate(graph, plugins) {
  const out = [];
  const nodeIds = new Set(graph.nodes.map((n) => n.id));
  const err = (on, id, message, severity = 'error') => out.push({ on, id, severity, message });

  if (graph.nodes.length === 0) {
    err('graph', null, 'the flow has no node (expected: at least one plugin)');
    return out;
  }
  if (!graph.root) err('graph', null, 'no root (expected: the node that runs first)');
  else if (!nodeIds.has(graph.root)) err('graph', null, `root "${graph.root}" is not a node`);

  const seenIds = new Set();
  for (const n of graph.nodes) {
    if (seenIds.has(n.id)) err('node', n.id, `node "${n.id}": id used twice`);
    seenIds.add(n.id);
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(n.id)) err('node', n.id, `node "${n.id}": id (expected: 1 to 64 of A-Z a-z 0-9 _ . -)`);
    else if (RESERVED_IDS.has(n.id)) err('node', n.id, `node "${n.id}": id reserved (rule.root names the first node; expected: another id)`);
    if (!n.plugin) err('node', n.id, `node "${n.id}": no plugin`);
    else if (plugins && !plugins.has(n.plugin)) err('node', n.id, `node "${n.id}": unknown plugin "${n.plugin}"`);
    if (n.conf === null || typeof n.conf !== 'object' || Array.isArray(n.conf)) err('node', n.id, `node "${n.id}": conf (expected: an object)`);
  }

  const bySource = new Map();
  for (const e of graph.edges) {
    if (!nodeIds.has(e.source)) err('edge', e.id, `edge ${e.source} → ${e.target}: no node "${e.source}"`);
    if (!nodeIds.has(e.target)) err('edge', e.id, `edge ${e.source} → ${e.target}: no node "${e.target}"`);
    if (e.target === graph.root) err('edge', e.id, `edge ${e.source} → ${e.target}: leads back to the root`);
    const why = conditionError(e.condition);
    if (why) err('edge', e.id, `edge ${e.source} → ${e.target}: condition "${e.condition}": ${why}`);
    if (!bySource.has(e.source)) bySource.set(e.source, []);
    bySource.get(e.source).push(e);
  }
  for (const [source, edges] of bySource) {
    const seen = new Map();
    for (const e of edges) {
      const c = e.condition.trim();
      if (seen.has(c)) {
        err('edge', e.id, c === ''
          ? `node "${source}": a second default branch (to ${e.target}; the first goes to ${seen.get(c).target})`
          : `node "${source}": condition "${c}" twice (to ${seen.get(c).target} and ${e.target})`);
      } else seen.set(c, e);
    }
    if (!seen.has('') && edges.some((e) => e.condition.trim() !== '')) {
      err('node', source, `node "${source}": conditional edges but no default branch ("" edge): when none holds the flow ends here`, 'warning');
    }
  }

  // Cycles: an edge that closes one (a back edge of a depth-first walk) is the one at fault.
  const state = new Map();
  const visit = (id) => {
    state.set(id, 'open');
    for (const e of bySource.get(id) || []) {
      if (!nodeIds.has(e.target)) continue;
      const s = state.get(e.target);
      if (s === 'open') err('edge', e.id, `edge ${e.source} → ${e.target}: closes a loop`);
      else if (!s) visit(e.target);
    }
    state.set(id, 'done');
  };
  if (graph.root && nodeIds.has(graph.root)) visit(graph.root);
  const reached = new Set(state.keys());
  for (const n of graph.nodes) {
    if (!state.has(n.id)) visit(n.id);
  }
  if (graph.root && nodeIds.has(graph.root)) {
    for (const n of graph.nodes) {
      if (!reached.has(n.id)) err('node', n.id, `node "${n.id}": not reachable from the root "${graph.root}"`);
    }
  }
  return out;
}

/** Problems by node and edge id, for drawing: {nodes: Map, edges: Map, graph: []}. */
export function problemsByTarget(problems) {
  const nodes = new Map();
  const edges = new Map();
  const graph = [];
  for (const p of problems) {
    const m = p.on === 'node' ? nodes : p.on === 'edge' ? edges : null;
    if (!m) graph.push(p);
    else m.set(p.id, [...(m.get(p.id) || []), p]);
  }
  return { nodes, edges, graph };
}
