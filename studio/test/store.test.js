import test from 'node:test';
import assert from 'node:assert/strict';
import { reducer, initialState, unsaved } from '../src/store.js';
import { toDag } from '../src/model/index.js';

const run = (actions) => actions.reduce(reducer, initialState);

test('the store builds the seed flow and undoes and redoes it step by step', () => {
  const s = run([
    { type: 'add', plugin: 'key-auth' },
    { type: 'add', plugin: 'limit-req' },
    { type: 'add', plugin: 'kafka-logger' },
    { type: 'connect', source: 'key-auth', target: 'limit-req', condition: 'code == 401' },
    { type: 'connect', source: 'key-auth', target: 'kafka-logger', condition: '' },
    { type: 'conf', id: 'limit-req', conf: { rate: 1, burst: 2, key: 'remote_addr' } },
  ]);
  assert.deepEqual({ ...toDag(s.history.present).rule }, {
    root: 'key-auth',
    'key-auth': [['code == 401', 'limit-req'], ['', 'kafka-logger']],
  });
  assert.deepEqual(s.selection, { nodes: ['kafka-logger'], edges: [] });
  const undone = reducer(reducer(s, { type: 'undo' }), { type: 'undo' });
  assert.equal(undone.history.present.edges.length, 1);
  assert.deepEqual(undone.history.present.nodes[1].conf, {});
  assert.equal(reducer(undone, { type: 'redo' }).history.present.edges.length, 2);
});

test('a drag is one undo step; copy, paste and delete the selection', () => {
  let s = run([{ type: 'add', plugin: 'key-auth' }, { type: 'checkpoint' }]);
  s = reducer(s, { type: 'move', positions: { 'key-auth': { x: 5, y: 5 } } });
  s = reducer(s, { type: 'move', positions: { 'key-auth': { x: 9, y: 9 } } });
  assert.deepEqual(reducer(s, { type: 'undo' }).history.present.nodes[0].position, { x: 40, y: 40 });
  s = reducer(reducer(s, { type: 'copy' }), { type: 'paste' });
  assert.deepEqual(s.history.present.nodes.map((n) => n.id), ['key-auth', 'key-auth-2']);
  assert.deepEqual(s.selection.nodes, ['key-auth-2']);
  s = reducer(s, { type: 'removeSelected' });
  assert.deepEqual(s.history.present.nodes.map((n) => n.id), ['key-auth']);
});

test('a condition change keeps the edge selected under its new id', () => {
  let s = run([
    { type: 'add', plugin: 'a' },
    { type: 'add', plugin: 'b' },
    { type: 'connect', source: 'a', target: 'b', condition: '' },
  ]);
  s = reducer(s, { type: 'condition', id: 'a->b:', condition: 'code == 200' });
  assert.deepEqual(s.selection.edges, ['a->b:code == 200']);
  assert.equal(s.history.present.edges[0].condition, 'code == 200');
});

test('unsaved: an empty new graph has nothing to lose; an opened one only once changed', () => {
  assert.equal(unsaved(initialState), false);
  const added = run([{ type: 'add', plugin: 'key-auth' }]);
  assert.equal(unsaved(added), true);
  const opened = reducer(initialState, { type: 'load', graph: { ...added.history.present, laidOut: true }, saved: true });
  assert.equal(unsaved(opened), false);
  assert.equal(unsaved(reducer(opened, { type: 'add', plugin: 'cors' })), true);
});
