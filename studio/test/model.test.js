import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import {
  addNode, connect, remove, paste, copy, setCondition, validate, problemsByTarget,
  toDag, fromDag, toStoredFlow, toPluginFlowYaml, fromPluginFlowYaml, toStandaloneYaml, fromStandaloneYaml,
  importAny, layout, createHistory, record, undo, redo, replace, HISTORY_LIMIT,
  conditionKind, conditionError, varsToCondition, conditionToVars, emptyGraph, checkpoint,
  freshNodeId, dnsName, DNS_1123, operatorFlowId, secretPaths,
} from '../src/model/index.js';

// The one set of fixtures the Java sides test with too.
const fixture = (p) => readFileSync(new URL(`../../model/src/test/resources/fixtures/${p}`, import.meta.url), 'utf8');
const seedStored = JSON.parse(fixture('valid/plugin_flows/seed.json'));

// The seed document's example: key-auth; on 401 limit-req, otherwise kafka-logger.
const SEED = {
  rule: { root: 'auth', auth: [['code == 401', 'throttle'], ['', 'log']] },
  conf: {
    auth: { name: 'key-auth', conf: {} },
    throttle: { name: 'limit-req', conf: { rate: 1, burst: 2, rejected_code: 503, key: 'remote_addr' } },
    log: { name: 'kafka-logger', conf: { brokers: [{ host: '127.0.0.1', port: 9092 }], kafka_topic: 'access-log' } },
  },
};
const PLUGINS = new Set(['key-auth', 'limit-req', 'kafka-logger']);
const ids = (problems) => problems.map((p) => `${p.on}:${p.id}`);

test('DAG JSON round-trips exactly, text for text', () => {
  for (const dag of [SEED, { rule: seedStored.rule, conf: seedStored.conf }]) {
    const text = JSON.stringify(dag);
    assert.equal(JSON.stringify(toDag(fromDag(text))), text);
  }
});

test('a stored flow keeps its name, desc, the Dashboard chart and the positions', () => {
  const g = fromDag(seedStored);
  assert.equal(g.id, 'key-auth-then-log');
  assert.equal(g.desc, "the seed document's example");
  assert.equal(g.laidOut, false);
  const moved = { ...g, nodes: g.nodes.map((n, i) => ({ ...n, position: { x: i * 100, y: 5 } })) };
  const stored = toStoredFlow(moved);
  assert.deepEqual(stored.chart.offset, { x: 0, y: 0 });
  const back = fromDag(JSON.parse(JSON.stringify(stored)), 'key-auth-then-log');
  assert.deepEqual(back.nodes, moved.nodes);
  assert.equal(back.laidOut, true);
  assert.deepEqual(toStoredFlow(back), stored);
});

test('the seed is valid', () => {
  assert.deepEqual(validate(fromDag(SEED), PLUGINS), []);
});

test('the seed fixture without a default branch is only warned about', () => {
  const problems = validate(fromDag(seedStored), PLUGINS);
  assert.deepEqual(problems.map((p) => [p.on, p.id, p.severity]), [['node', 'a1', 'warning']]);
  assert.match(problems[0].message, /no default branch/);
});

test('validation finds each problem on the node or edge at fault', () => {
  let g = fromDag(SEED);
  g = connect(g, 'log', 'throttle', 'code == 200'); // fine: log → throttle
  g = connect(g, 'throttle', 'log', ''); // closes a loop
  g = addNode(g, 'no-such-plugin', { x: 0, y: 0 }); // unknown, unreachable
  g = connect(g, 'auth', 'no-such-plugin', 'code == 401'); // same condition twice
  g = connect(g, 'auth', 'throttle', 'code = 1'); // bad syntax
  const problems = validate(g, PLUGINS);
  const on = ids(problems);
  assert.ok(problems.some((p) => ['log->throttle:code == 200', 'throttle->log:'].includes(p.id) && /loop/.test(p.message)), on.join());
  assert.ok(on.includes('node:no-such-plugin'), on.join());
  assert.ok(problems.some((p) => p.id === 'auth->no-such-plugin:code == 401' && /twice/.test(p.message)));
  assert.ok(problems.some((p) => p.id === 'auth->throttle:code = 1' && /at 6: "="/.test(p.message)));
  assert.ok(problems.some((p) => /unknown plugin "no-such-plugin"/.test(p.message)));
});

test('unreachable nodes, no root, two defaults, an edge back to the root', () => {
  let g = fromDag(SEED);
  g = addNode(g, 'limit-req');
  assert.deepEqual(ids(validate(g, PLUGINS)), ['node:limit-req']);
  g = connect(connect(g, 'auth', 'limit-req', ''), 'log', 'auth', 'code == 200');
  const problems = validate(g, PLUGINS);
  assert.ok(problems.some((p) => /second default branch/.test(p.message)));
  assert.ok(problems.some((p) => p.id === 'log->auth:code == 200' && /root/.test(p.message)));
  assert.deepEqual(ids(validate({ ...fromDag(SEED), root: null })).slice(0, 1), ['graph:null']);
  assert.deepEqual(validate(emptyGraph()).map((p) => p.on), ['graph']);
  const by = problemsByTarget(problems);
  assert.ok(by.edges.has('log->auth:code == 200'));
});

test('conditions: kinds, the vars form, and what the dataplane refuses', () => {
  assert.equal(conditionKind(''), 'default');
  assert.equal(conditionKind('code == 401'), 'outcome');
  assert.equal(conditionKind('code >= 500'), 'outcome');
  assert.equal(conditionKind("arg_env == 'prod' and http_x_beta ~~ '^1'"), 'vars');
  assert.equal(conditionKind('consumer or not uri'), 'expression');
  const text = varsToCondition([['arg_env', '==', 'prod'], ['http_x_n', '>', 2], ['cookie_a', '~~', "it's"]]);
  assert.equal(text, "arg_env == 'prod' and http_x_n > 2 and cookie_a ~~ 'it\\'s'");
  assert.equal(conditionError(text), null);
  assert.deepEqual(conditionToVars(text), [['arg_env', '==', 'prod'], ['http_x_n', '>', 2], ['cookie_a', '~~', "it's"]]);
  assert.throws(() => varsToCondition([['remote_addr', 'ipmatch', '10.0.0.0/8']]), /ipmatch/);
  assert.match(conditionError('code == '), /at the end/);
  assert.match(conditionError('(code == 1'), /expected: \)/);
  assert.match(conditionError("a == 'x"), /not closed/);
  assert.equal(conditionError('not (code == 200 or remaining < 1)'), null);
});

test('the PluginFlow resource YAML round-trips and reads the example manifest shape', () => {
  const g = fromDag(SEED, 'gatekeeper');
  const yaml = toPluginFlowYaml(g, 'demo');
  assert.match(yaml, /^apiVersion: archway.io\/v1alpha1\nkind: PluginFlow\nmetadata:\n  name: gatekeeper\n  namespace: demo\n/);
  assert.match(yaml, /- from: auth\n\s+to: log\n/);
  const back = fromPluginFlowYaml(yaml);
  assert.equal(back.id, 'gatekeeper');
  assert.deepEqual(toDag(back), toDag(g));
  assert.equal(toPluginFlowYaml(back, 'demo'), yaml);
  const manifest = readFileSync(new URL('../../examples/kubernetes/pluginflow-seed.yaml', import.meta.url), 'utf8');
  const m = fromPluginFlowYaml(manifest);
  assert.equal(m.root, 'auth');
  assert.deepEqual(m.edges.map((e) => e.condition), ['code == 200', 'code == 401']);
});

test('the standalone plugin_flows: YAML round-trips and reads the example file', () => {
  const g = layout(fromDag(SEED, 'gatekeeper'));
  const text = toStandaloneYaml(g);
  assert.match(text, /^plugin_flows:\n  - id: gatekeeper\n/);
  assert.match(text, /#END\n$/);
  const back = fromStandaloneYaml(text);
  assert.deepEqual(toDag(back), toDag(g));
  assert.deepEqual(back.nodes, g.nodes);
  assert.equal(toStandaloneYaml(back), text);
  const file = readFileSync(new URL('../../examples/pluginflow.yaml', import.meta.url), 'utf8');
  assert.equal(fromStandaloneYaml(file, 'gatekeeper').nodes.length, 3);
  assert.equal(importAny(file).id, 'gatekeeper');
  assert.equal(importAny(JSON.stringify(SEED)).root, 'auth');
  assert.equal(importAny(toPluginFlowYaml(g)).id, 'gatekeeper');
  assert.throws(() => importAny('hello: 1'), /not a flow/);
  assert.throws(() => fromDag('{"rule": {}}'), /conf: missing/);
});

test('layout puts the root first and the branches after it, without overlap', () => {
  const g = layout(fromDag(SEED));
  const at = Object.fromEntries(g.nodes.map((n) => [n.id, n.position]));
  assert.ok(at.auth.x < at.log.x && at.auth.x < at.throttle.x);
  assert.notEqual(at.log.y, at.throttle.y);
});

test('edits: add, connect, condition, copy/paste, remove', () => {
  let g = addNode(emptyGraph(), 'key-auth');
  g = addNode(g, 'limit-req', { x: 200, y: 0 });
  assert.equal(g.root, 'key-auth');
  g = connect(g, 'key-auth', 'limit-req', ' code == 401 ');
  assert.equal(g.edges[0].condition, 'code == 401');
  assert.equal(connect(g, 'key-auth', 'limit-req', 'code == 401'), g);
  g = setCondition(g, g.edges[0].id, '');
  assert.equal(g.edges[0].id, 'key-auth->limit-req:');
  const { graph: pasted, ids: added } = paste(g, copy(g, ['key-auth', 'limit-req']));
  assert.deepEqual(added, ['key-auth-2', 'limit-req-2']);
  assert.equal(pasted.edges.length, 2);
  assert.deepEqual(pasted.nodes[3].position, { x: 240, y: 40 });
  const removed = remove(pasted, { nodes: ['key-auth'] });
  assert.equal(removed.root, 'limit-req');
  assert.equal(removed.edges.length, 1);
});

test('history: undo, redo, a new step drops the future, a bounded past', () => {
  let h = createHistory(emptyGraph());
  const a = addNode(h.present, 'key-auth');
  h = record(h, a);
  const b = addNode(a, 'limit-req');
  h = record(h, b);
  h = undo(h);
  assert.equal(h.present, a);
  h = redo(h);
  assert.equal(h.present, b);
  h = undo(undo(h));
  assert.deepEqual(h.present, emptyGraph());
  assert.equal(undo(h), h);
  h = record(h, b);
  assert.equal(h.future.length, 0);
  assert.equal(replace(h, a).past, h.past);
  for (let i = 0; i < HISTORY_LIMIT + 10; i++) h = record(h, { i });
  assert.equal(h.past.length, HISTORY_LIMIT);
});

test('server messages are placed on their node and field', async () => {
  const { nodeOf, fieldOf } = await import('../src/model/index.js');
  const g = fromDag(SEED);
  const msg = 'invalid configuration: conf.throttle.conf.rate: -1 (expected: > 0)';
  assert.equal(nodeOf(msg, g), 'throttle');
  assert.equal(fieldOf(msg, ['burst', 'rate', 'rejected_code']), 'rate');
  assert.equal(fieldOf('plugin limit-req: rejected_code: 99 (expected: >= 200)', ['rejected_code', 'code']), 'rejected_code');
  assert.equal(nodeOf('something else', g), null);
  assert.equal(fieldOf('', ['rate']), null);
});

test('conditions the server refuses are refused here too (FlowCondition)', () => {
  for (const bad of ["(code > 'x')", "consumer ~~ '('", 'uri ~~ 5', 'code < true', 'code == 1.2.3', 'code >= nil',
    "uri ~~ '(?=a)'", "uri ~~ '(?<!a)b'", "uri ~~ '(a)\\\\1'", `code > ${'9'.repeat(400)}`]) {
    assert.ok(conditionError(bad), `refused: ${bad}`);
  }
  for (const good of ['code == 401', 'code >= 500 and code < 600', 'code > 1.5', "uri ~~ '^/api/(?P<v>v[0-9]+)'",
    "uri ~~ '(?i)^/API'", 'consumer == nil', "uri ~~ '\\\\d+'", 'code == 1.']) {
    assert.equal(conditionError(good), null, good);
  }
});

// Every shared plugin_flows fixture: the same verdict as the server (valid: no error; invalid:
// an error, and each condition its .txt says the server refused is refused here).
const FIXTURES = new URL('../../model/src/test/resources/fixtures/', import.meta.url);
test('every shared plugin_flows fixture gets the server\'s verdict', () => {
  const valid = readdirSync(new URL('valid/plugin_flows/', FIXTURES)).filter((f) => f.endsWith('.json'));
  const invalid = readdirSync(new URL('invalid/plugin_flows/', FIXTURES)).filter((f) => f.endsWith('.json'));
  assert.ok(valid.length >= 1 && invalid.length >= 3);
  for (const f of valid) {
    const errors = validate(fromDag(fixture(`valid/plugin_flows/${f}`))).filter((p) => p.severity === 'error');
    assert.deepEqual(errors, [], f);
  }
  for (const f of invalid) {
    const errors = validate(fromDag(fixture(`invalid/plugin_flows/${f}`))).filter((p) => p.severity === 'error');
    assert.ok(errors.length > 0, `${f}: no error found`);
    const expected = fixture(`invalid/plugin_flows/${f.replace(/\.json$/, '.txt')}`);
    for (const [, c] of expected.matchAll(/condition "((?:[^"\\]|\\.)*)" at/g)) {
      assert.ok(conditionError(c), `${f}: condition ${c} accepted`);
    }
  }
});

test('node ids: root reserved, __proto__ kept, a node without conf reported', () => {
  assert.notEqual(freshNodeId({ nodes: [] }, 'root'), 'root');
  const g = { ...emptyGraph('x'), root: 'root', nodes: [{ id: 'root', plugin: 'cors', conf: {}, position: { x: 0, y: 0 } }], edges: [] };
  assert.ok(validate(g).some((p) => /reserved/.test(p.message)));
  assert.throws(() => toDag(g), /reserved/);
  const text = '{"rule":{"root":"__proto__","__proto__":[["","b"]]},"conf":{"__proto__":{"name":"cors","conf":{}},"b":{"name":"echo","conf":{}}},"chart":{"studio":{"positions":{"__proto__":{"x":5,"y":6}}}}}';
  const p = fromDag(text);
  assert.deepEqual(p.nodes.map((n) => n.id), ['__proto__', 'b']);
  assert.deepEqual(p.nodes[0].position, { x: 5, y: 6 });
  assert.equal(JSON.stringify(toDag(p)), JSON.stringify({ rule: JSON.parse(text).rule, conf: JSON.parse(text).conf }));
  assert.deepEqual(fromStandaloneYaml(toStandaloneYaml(p)).nodes.map((n) => n.id), ['__proto__', 'b']);
  const noConf = fromDag({ rule: { root: 'a' }, conf: { a: { name: 'cors' } } });
  assert.equal(noConf.nodes[0].conf, undefined);
  assert.match(validate(noConf)[0].message, /conf \(expected: an object\)/);
});

test('PluginFlow resource: DNS-1123 name, kept metadata and secretRefs, the operator\'s id', () => {
  assert.ok(!DNS_1123.test('My_Flow'));
  assert.equal(dnsName('My_Flow'), 'my-flow');
  assert.ok(DNS_1123.test(dnsName('__x..Y--')));
  assert.equal(operatorFlowId('shop', 'gate'), 'pf_shop_gate');
  const yaml = `apiVersion: archway.io/v1alpha1
kind: PluginFlow
metadata:
  name: gate
  namespace: shop
  labels: {team: edge}
spec:
  root: a
  nodes:
    - {id: a, plugin: key-auth, config: {}}
    - {id: b, plugin: limit-count, config: {count: 1, time_window: 60}, secretRef: b-redis}
  edges:
    - {from: a, to: b}
`;
  const out = toPluginFlowYaml(fromPluginFlowYaml(yaml));
  const again = fromPluginFlowYaml(out);
  assert.deepEqual(again.resource.metadata, { namespace: 'shop', labels: { team: 'edge' } });
  assert.equal(again.resource.secretRefs.b, 'b-redis');
  assert.match(out, /secretRef: b-redis/);
});

test('secrets: writeOnly paths found, left out of exports on request', () => {
  const schema = { properties: { key: { type: 'string', writeOnly: true }, auth: { type: 'object', properties: { password: { writeOnly: true }, user: {} } } } };
  assert.deepEqual(secretPaths({ key: 'k', auth: { password: 'p', user: 'u' } }, schema), ['key', 'auth.password']);
  assert.deepEqual(secretPaths({ auth: { user: 'u' } }, schema), []);
  const g = { ...emptyGraph('s'), root: 'a', nodes: [{ id: 'a', plugin: 'x', conf: { key: 'k1', auth: { password: 'p1', user: 'u' } }, position: { x: 0, y: 0 } }], edges: [] };
  const secrets = { a: ['key', 'auth.password'] };
  const cr = toPluginFlowYaml(g, 'ns', secrets);
  assert.doesNotMatch(cr.split('---')[0], /k1|p1/);
  assert.match(cr, /secretRef: s-a/);
  assert.match(cr, /kind: Secret[\s\S]*key: k1[\s\S]*auth.password: p1/);
  const file = toStandaloneYaml(g, secrets);
  assert.doesNotMatch(file, /k1|p1/);
  assert.match(file, /# key: left out \(a secret\)/);
  assert.match(file, /# password: left out \(a secret\)/);
  assert.match(toStandaloneYaml(g), /k1/);
});

test('a checkpoint is bounded by HISTORY_LIMIT too', () => {
  let h = createHistory(emptyGraph());
  for (let i = 0; i < HISTORY_LIMIT + 5; i++) h = checkpoint(h);
  assert.equal(h.past.length, HISTORY_LIMIT);
});
