// The Studio's exports of a tricky flow, committed under model/src/test/resources/fixtures/studio/
// for the Java readers (model StudioExportsTest: the standalone file; operator
// StudioPluginFlowExportTest: the PluginFlow resource and its Secret). This test regenerates them
// and fails when the committed files differ: run `STUDIO_WRITE_FIXTURES=1 npm test` after a change
// to the formats, and commit the files.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, emptyGraph, toPluginFlowYaml, toStandaloneYaml, importAny } from '../src/model/index.js';

// Strings YAML 1.1 readers (Jackson, kubectl) take for booleans, numbers or null when unquoted.
export const TRICKY = ['on', 'off', 'yes', 'no', 'y', 'n', 'Y', 'ON', 'true', 'null', '~', '0x1F', '012', '1e3', '1_000', '12:30', '#x', 'a: b'];

export function trickyFlow() {
  const set = Object.fromEntries(TRICKY.map((v, i) => [`X-H${i}`, v]));
  let g = {
    ...emptyGraph('tricky'),
    root: 'limit',
    nodes: [
      { id: 'limit', plugin: 'limit-count', conf: { count: 10, time_window: 60, key: 'remote_addr', policy: 'redis', redis_host: '127.0.0.1', redis_password: 'on' }, position: { x: 0, y: 0 } },
      { id: 'on', plugin: 'response-rewrite', conf: { headers: { set } }, position: { x: 200, y: 0 } },
      { id: 'no', plugin: 'response-rewrite', conf: { body: 'yes' }, position: { x: 200, y: 100 } },
    ],
    edges: [],
  };
  g = connect(g, 'limit', 'on', "arg_mode == 'on'");
  g = connect(g, 'limit', 'no', '');
  return g;
}

const DIR = new URL('../../model/src/test/resources/fixtures/studio/', import.meta.url);
const SECRETS = { limit: ['redis_password'] };

export const exportsOf = (g) => ({
  'tricky-apisix.yaml': toStandaloneYaml(g),
  'tricky-pluginflow.yaml': toPluginFlowYaml(g, 'shop', SECRETS),
});

test('the committed exports of the tricky flow are what the Studio writes', () => {
  for (const [file, text] of Object.entries(exportsOf(trickyFlow()))) {
    if (process.env.STUDIO_WRITE_FIXTURES) writeFileSync(new URL(file, DIR), text);
    assert.equal(readFileSync(new URL(file, DIR), 'utf8'), text, `${file}: regenerate with STUDIO_WRITE_FIXTURES=1 npm test`);
  }
});

test('the exports read back to the same strings (YAML 1.1 both ways)', () => {
  const g = trickyFlow();
  const { standalone, resource } = { standalone: importAny(exportsOf(g)['tricky-apisix.yaml']), resource: importAny(exportsOf(g)['tricky-pluginflow.yaml']) };
  assert.deepEqual(standalone.nodes.map((n) => n.conf), g.nodes.map((n) => n.conf));
  assert.deepEqual(resource.nodes.find((n) => n.id === 'on').conf, g.nodes[1].conf);
  assert.equal(resource.resource.secretRefs.limit, 'tricky-limit');
  assert.equal(resource.nodes[0].conf.redis_password, undefined);
  for (const v of ['on', 'off', 'yes', 'no', 'y', 'n']) assert.match(exportsOf(g)['tricky-apisix.yaml'], new RegExp(`: "${v}"\\n`));
});
