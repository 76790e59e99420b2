// Import and export, pure functions on the graph:
//  - the APISIX Dashboard's DAG JSON {rule: {root, ID: [[condition, next], ...]}, conf: {ID: {name, conf}}}
//    (also the Admin API's stored plugin_flow, which adds id, name, desc, chart, labels);
//  - the PluginFlow custom resource (archway.io/v1alpha1) as YAML for kubectl apply;
//  - the standalone file's `plugin_flows:` section.
// Node positions travel in the stored flow's `chart` ({"studio": {"positions": {ID: {x, y}}}}),
// which the server keeps untouched; formats without a place for them are laid out again.

import YAML from 'yaml';
import { edgeId } from './graph.js';

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The Dashboard's DAG JSON: exactly rule and conf, in the graph's order. */
export function toDag(graph) {
  const rule = { root: graph.root };
  for (const e of graph.edges) {
    (rule[e.source] ||= []).push([e.condition, e.target]);
  }
  const conf = {};
  for (const n of graph.nodes) conf[n.id] = { name: n.plugin, conf: n.conf };
  return { rule, conf };
}

/** The Admin API's plugin_flow value (PUT /apisix/admin/plugin_flows/{id}). */
export function toStoredFlow(graph) {
  const out = {};
  if (graph.name) out.name = graph.name;
  if (graph.desc) out.desc = graph.desc;
  Object.assign(out, toDag(graph));
  const chart = isObject(graph.chart) ? { ...graph.chart } : {};
  chart.studio = { positions: Object.fromEntries(graph.nodes.map((n) => [n.id, n.position])) };
  out.chart = chart;
  if (graph.labels && Object.keys(graph.labels).length) out.labels = graph.labels;
  return out;
}

/**
 * A graph from DAG JSON or a stored flow (object or JSON text). Throws an Error naming the field
 * at fault. Nodes without a stored position get {x: 0, y: 0} and `laidOut: false`.
 */
export function fromDag(input, id = '') {
  const dag = typeof input === 'string' ? JSON.parse(input) : input;
  if (!isObject(dag)) throw new Error('expected a JSON object with rule and conf');
  if (!isObject(dag.rule)) throw new Error('rule: missing (expected: object with root and edges)');
  if (!isObject(dag.conf)) throw new Error('conf: missing (expected: object of {name, conf} by node id)');
  const positions = dag.chart?.studio?.positions || {};
  const nodes = [];
  for (const [nid, node] of Object.entries(dag.conf)) {
    if (!isObject(node) || typeof node.name !== 'string') throw new Error(`conf.${nid}: expected {name, conf}`);
    nodes.push({ id: nid, plugin: node.name, conf: node.conf ?? {}, position: positions[nid] ? { ...positions[nid] } : { x: 0, y: 0 } });
  }
  const edges = [];
  for (const [source, list] of Object.entries(dag.rule)) {
    if (source === 'root') continue;
    if (!Array.isArray(list)) throw new Error(`rule.${source}: expected an array of [condition, next]`);
    list.forEach((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        throw new Error(`rule.${source}[${i}]: expected [condition, next]`);
      }
      edges.push({ id: edgeId(source, pair[1], pair[0]), source, target: pair[1], condition: pair[0] });
    });
  }
  const graph = {
    id: dag.id ?? id,
    name: dag.name ?? '',
    desc: dag.desc ?? '',
    root: typeof dag.rule.root === 'string' ? dag.rule.root : null,
    nodes,
    edges,
  };
  if (isObject(dag.chart)) {
    const { studio, ...rest } = dag.chart;
    if (Object.keys(rest).length) graph.chart = rest;
  }
  if (isObject(dag.labels)) graph.labels = dag.labels;
  graph.laidOut = nodes.every((n) => positions[n.id]);
  return graph;
}

/** The PluginFlow custom resource as a YAML document. */
export function toPluginFlowResource(graph, namespace) {
  const metadata = { name: graph.id || 'flow' };
  if (namespace) metadata.namespace = namespace;
  return {
    apiVersion: 'archway.io/v1alpha1',
    kind: 'PluginFlow',
    metadata,
    spec: {
      root: graph.root,
      nodes: graph.nodes.map((n) => ({ id: n.id, plugin: n.plugin, config: n.conf })),
      edges: graph.edges.map((e) => (e.condition === '' ? { from: e.source, to: e.target } : { from: e.source, to: e.target, condition: e.condition })),
    },
  };
}

export function toPluginFlowYaml(graph, namespace) {
  return YAML.stringify(toPluginFlowResource(graph, namespace));
}

/** The first PluginFlow in a YAML text (several documents allowed); its nodes or its `dag`. */
export function fromPluginFlowYaml(text) {
  const docs = YAML.parseAllDocuments(text).map((d) => {
    if (d.errors.length) throw new Error(`YAML: ${d.errors[0].message}`);
    return d.toJS();
  });
  const cr = docs.find((d) => isObject(d) && d.kind === 'PluginFlow');
  if (!cr) throw new Error('no document with kind: PluginFlow');
  const id = cr.metadata?.name ?? '';
  const spec = cr.spec;
  if (!isObject(spec)) throw new Error(`PluginFlow ${id}: spec: missing`);
  if (spec.dag !== undefined) return fromDag(spec.dag, id);
  if (!Array.isArray(spec.nodes)) throw new Error(`PluginFlow ${id}: spec.nodes: expected a list`);
  const nodes = spec.nodes.map((n, i) => {
    if (!isObject(n) || typeof n.id !== 'string' || typeof n.plugin !== 'string') throw new Error(`PluginFlow ${id}: spec.nodes[${i}]: expected {id, plugin, config}`);
    return { id: n.id, plugin: n.plugin, conf: n.config ?? {}, position: { x: 0, y: 0 } };
  });
  const edges = (spec.edges || []).map((e, i) => {
    if (!isObject(e) || typeof e.from !== 'string' || typeof e.to !== 'string') throw new Error(`PluginFlow ${id}: spec.edges[${i}]: expected {from, to, condition}`);
    const condition = e.condition ?? '';
    return { id: edgeId(e.from, e.to, condition), source: e.from, target: e.to, condition };
  });
  return { id, name: '', desc: '', root: spec.root ?? null, nodes, edges, laidOut: false };
}

/** A standalone file with this flow in `plugin_flows:` (ends with #END, as the file does). */
export function toStandaloneYaml(graph) {
  const flow = { id: graph.id || 'flow', ...toStoredFlow(graph) };
  return `${YAML.stringify({ plugin_flows: [flow] })}#END\n`;
}

/** The flow `id` (or the first) of a standalone file's `plugin_flows:`. */
export function fromStandaloneYaml(text, id) {
  const doc = YAML.parse(text);
  const flows = doc?.plugin_flows;
  if (!Array.isArray(flows) || flows.length === 0) throw new Error('plugin_flows: missing or empty');
  const flow = id ? flows.find((f) => f?.id === id) : flows[0];
  if (!flow) throw new Error(`plugin_flows: no flow "${id}"`);
  return fromDag(flow, flow.id ?? '');
}

/** Which format a text is in: 'dag' (JSON), 'resource' (kind: PluginFlow) or 'standalone'. */
export function detectFormat(text) {
  const t = text.trimStart();
  if (t.startsWith('{')) return 'dag';
  if (/^kind:\s*PluginFlow\s*$/m.test(text)) return 'resource';
  if (/^plugin_flows:/m.test(text)) return 'standalone';
  throw new Error('not a flow (expected: DAG JSON, a PluginFlow resource or a standalone file with plugin_flows:)');
}

export function importAny(text) {
  switch (detectFormat(text)) {
    case 'dag':
      return fromDag(text);
    case 'resource':
      return fromPluginFlowYaml(text);
    default:
      return fromStandaloneYaml(text);
  }
}
