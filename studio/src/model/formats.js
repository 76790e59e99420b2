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
// Node ids are keys: objects without a prototype, so `__proto__` is a key like any other.
const dict = () => Object.create(null);
const own = (o, k) => (isObject(o) && Object.hasOwn(o, k) ? o[k] : undefined);

// YAML 1.1, as Jackson's YAML reader and kubectl read it: `on`, `off`, `yes`, `no`, `y`, `n` are
// booleans there, so a string with such a value must be written quoted (YAML 1.2 would not).
const YAML_OPTIONS = { version: '1.1' };
const stringify = (v) => YAML.stringify(v, YAML_OPTIONS);

/** A Kubernetes object name (DNS-1123 subdomain): lower case, digits, - and ., at most 253. */
export const DNS_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** `name` made a DNS-1123 name (lower case, anything else a -), or 'flow' when nothing is left. */
export function dnsName(name) {
  const n = String(name).toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/\.{2,}/g, '.')
    .replace(/(^|\.)[-.]+|[-.]+($|\.)/g, '$1$2').replace(/^[.-]+|[.-]+$/g, '').slice(0, 253).replace(/[.-]+$/, '');
  return n || 'flow';
}

/** The id the operator stores a PluginFlow under (PluginFlowTranslator.id): pf_<ns>_<name>. */
export function operatorFlowId(namespace, name) {
  return `pf_${namespace || 'default'}_${name}`;
}

/**
 * The paths (`a.b`) in `conf` of the fields `schema` marks `writeOnly` (secrets) that have a
 * value, nested objects included.
 */
export function secretPaths(conf, schema, prefix = '') {
  const out = [];
  if (!isObject(conf) || !isObject(schema) || !isObject(schema.properties)) return out;
  for (const [k, sub] of Object.entries(schema.properties)) {
    if (!Object.hasOwn(conf, k) || conf[k] === undefined) continue;
    if (sub?.writeOnly) out.push(prefix + k);
    else if (isObject(conf[k]) && isObject(sub)) out.push(...secretPaths(conf[k], sub, `${prefix}${k}.`));
  }
  return out;
}

/** `conf` without the value at each of `paths`, and those values by path. */
export function withoutPaths(conf, paths) {
  const copy = structuredClone(conf);
  const taken = {};
  for (const path of paths) {
    const parts = path.split('.');
    let at = copy;
    for (const p of parts.slice(0, -1)) at = isObject(at) ? at[p] : undefined;
    const last = parts[parts.length - 1];
    if (isObject(at) && Object.hasOwn(at, last)) {
      taken[path] = at[last];
      delete at[last];
    }
  }
  return { conf: copy, taken };
}

/** The Dashboard's DAG JSON: exactly rule and conf, in the graph's order. */
export function toDag(graph) {
  const reserved = graph.nodes.find((n) => n.id === 'root') || graph.edges.find((e) => e.source === 'root');
  if (reserved) throw new Error('node "root": the id is reserved (rule.root names the first node); rename it');
  const rule = dict();
  rule.root = graph.root;
  for (const e of graph.edges) {
    (rule[e.source] ||= []).push([e.condition, e.target]);
  }
  const conf = dict();
  for (const n of graph.nodes) conf[n.id] = n.conf === undefined ? { name: n.plugin } : { name: n.plugin, conf: n.conf };
  return { rule, conf };
}

/** The Admin API's plugin_flow value (PUT /apisix/admin/plugin_flows/{id}). */
export function toStoredFlow(graph) {
  const out = {};
  if (graph.name) out.name = graph.name;
  if (graph.desc) out.desc = graph.desc;
  Object.assign(out, toDag(graph));
  const chart = isObject(graph.chart) ? { ...graph.chart } : {};
  const positions = dict();
  for (const n of graph.nodes) positions[n.id] = n.position;
  chart.studio = { positions };
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
  const positions = own(own(dag.chart, 'studio'), 'positions');
  const at = (nid) => own(positions, nid);
  const nodes = [];
  for (const [nid, node] of Object.entries(dag.conf)) {
    if (!isObject(node) || typeof node.name !== 'string') throw new Error(`conf.${nid}: expected {name, conf}`);
    // A node without conf keeps none: validate reports it, as the server would.
    nodes.push({ id: nid, plugin: node.name, conf: node.conf, position: at(nid) ? { ...at(nid) } : { x: 0, y: 0 } });
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
  graph.laidOut = nodes.every((n) => at(n.id));
  return graph;
}

/**
 * The PluginFlow custom resource. `graph.resource` (from an imported one) keeps its metadata
 * (namespace, labels, annotations) and the nodes' `secretRef`s. `secrets` ({nodeId: [path]}),
 * when given, are left out of each node's config: they go into one Secret per node (returned in
 * `secretDocs`, `stringData` by path, as the operator merges them) named by the node's
 * `secretRef`. The name is `graph.id`; it must be a DNS-1123 name (see `dnsName`).
 */
export function toPluginFlowResource(graph, namespace, secrets) {
  const kept = isObject(graph.resource?.metadata) ? structuredClone(graph.resource.metadata) : {};
  const metadata = { name: graph.id || 'flow', ...kept };
  if (namespace) metadata.namespace = namespace;
  const refs = graph.resource?.secretRefs || {};
  const secretDocs = [];
  const nodes = graph.nodes.map((n) => {
    const node = { id: n.id, plugin: n.plugin, config: n.conf ?? {} };
    let ref = Object.hasOwn(refs, n.id) ? refs[n.id] : undefined;
    const paths = secrets && Object.hasOwn(secrets, n.id) ? secrets[n.id] : [];
    if (paths.length) {
      const { conf, taken } = withoutPaths(node.config, paths);
      node.config = conf;
      ref ||= dnsName(`${metadata.name}-${n.id}`);
      const stringData = {};
      for (const [k, v] of Object.entries(taken)) stringData[k] = typeof v === 'string' ? v : JSON.stringify(v);
      const sm = { name: ref };
      if (metadata.namespace) sm.namespace = metadata.namespace;
      secretDocs.push({ apiVersion: 'v1', kind: 'Secret', metadata: sm, type: 'Opaque', stringData });
    }
    if (ref) node.secretRef = ref;
    return node;
  });
  const resource = {
    apiVersion: 'archway.io/v1alpha1',
    kind: 'PluginFlow',
    metadata,
    spec: {
      root: graph.root,
      nodes,
      edges: graph.edges.map((e) => (e.condition === '' ? { from: e.source, to: e.target } : { from: e.source, to: e.target, condition: e.condition })),
    },
  };
  return { resource, secretDocs };
}

/** The PluginFlow resource as YAML, then each Secret (with `secrets`) as its own document. */
export function toPluginFlowYaml(graph, namespace, secrets) {
  const { resource, secretDocs } = toPluginFlowResource(graph, namespace, secrets);
  return [resource, ...secretDocs].map(stringify).join('---\n');
}

/** The first PluginFlow in a YAML text (several documents allowed); its nodes or its `dag`. */
export function fromPluginFlowYaml(text) {
  const docs = YAML.parseAllDocuments(text, YAML_OPTIONS).map((d) => {
    if (d.errors.length) throw new Error(`YAML: ${d.errors[0].message}`);
    return d.toJS();
  });
  const cr = docs.find((d) => isObject(d) && d.kind === 'PluginFlow');
  if (!cr) throw new Error('no document with kind: PluginFlow');
  const id = cr.metadata?.name ?? '';
  const spec = cr.spec;
  if (!isObject(spec)) throw new Error(`PluginFlow ${id}: spec: missing`);
  const { name, ...metadata } = isObject(cr.metadata) ? cr.metadata : {};
  if (spec.dag !== undefined) return { ...fromDag(spec.dag, id), resource: { metadata, secretRefs: {} } };
  if (!Array.isArray(spec.nodes)) throw new Error(`PluginFlow ${id}: spec.nodes: expected a list`);
  const secretRefs = dict();
  const nodes = spec.nodes.map((n, i) => {
    if (!isObject(n) || typeof n.id !== 'string' || typeof n.plugin !== 'string') throw new Error(`PluginFlow ${id}: spec.nodes[${i}]: expected {id, plugin, config}`);
    if (typeof n.secretRef === 'string' && n.secretRef) secretRefs[n.id] = n.secretRef;
    return { id: n.id, plugin: n.plugin, conf: n.config ?? {}, position: { x: 0, y: 0 } };
  });
  const edges = (spec.edges || []).map((e, i) => {
    if (!isObject(e) || typeof e.from !== 'string' || typeof e.to !== 'string') throw new Error(`PluginFlow ${id}: spec.edges[${i}]: expected {from, to, condition}`);
    const condition = e.condition ?? '';
    return { id: edgeId(e.from, e.to, condition), source: e.from, target: e.to, condition };
  });
  return { id, name: '', desc: '', root: spec.root ?? null, nodes, edges, laidOut: false, resource: { metadata, secretRefs } };
}

/**
 * A standalone file with this flow in `plugin_flows:` (ends with #END, as the file does).
 * `secrets` ({nodeId: [path]}), when given, are left out, each with a comment where it was.
 */
export function toStandaloneYaml(graph, secrets) {
  const flow = { id: graph.id || 'flow', ...toStoredFlow(graph) };
  if (!secrets) return `${stringify({ plugin_flows: [flow] })}#END\n`;
  const doc = new YAML.Document({ plugin_flows: [flow] }, YAML_OPTIONS);
  for (const [nid, paths] of Object.entries(secrets)) {
    for (const path of paths) {
      const parts = ['plugin_flows', 0, 'conf', nid, 'conf', ...path.split('.')];
      if (!doc.hasIn(parts)) continue;
      doc.deleteIn(parts);
      const parent = doc.getIn(parts.slice(0, -1), true);
      const note = ` ${parts[parts.length - 1]}: left out (a secret); set it before loading this file`;
      parent.commentBefore = parent.commentBefore ? `${parent.commentBefore}\n${note}` : note;
    }
  }
  return `${doc.toString()}#END\n`;
}

/** The flow `id` (or the first) of a standalone file's `plugin_flows:`. */
export function fromStandaloneYaml(text, id) {
  const doc = YAML.parse(text, YAML_OPTIONS);
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
