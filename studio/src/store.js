// The app's one store: a reducer over the graph model, with undo/redo history.
import { useReducer } from 'react';
import {
  createHistory, record, replace, undo, redo, emptyGraph, addNode, connect, remove, setCondition,
  updateNode, paste, copy, layout, checkpoint, toStoredFlow,
} from './model/index.js';

export const initialState = {
  history: createHistory(emptyGraph()),
  selection: { nodes: [], edges: [] },
  clipboard: null,
  saved: null, // toStoredFlow's JSON of the graph as last saved or opened
};

function withGraph(state, graph, selection = state.selection) {
  return { ...state, history: record(state.history, graph), selection };
}

export function reducer(state, action) {
  const g = state.history.present;
  switch (action.type) {
    case 'load': {
      const graph = action.graph.laidOut ? action.graph : layout(action.graph);
      // `saved: true`: the graph is what the server stores (opened), compared as toStoredFlow gives it.
      return { ...state, history: createHistory(graph), selection: { nodes: [], edges: [] }, saved: action.saved ? JSON.stringify(toStoredFlow(graph)) : null };
    }
    case 'add': {
      const next = addNode(g, action.plugin, action.position ?? { x: 40 + g.nodes.length * 230, y: 40 + (g.nodes.length % 3) * 110 });
      const id = next.nodes[next.nodes.length - 1].id;
      return withGraph(state, next, { nodes: [id], edges: [] });
    }
    case 'connect':
      return withGraph(state, connect(g, action.source, action.target, action.condition ?? ''));
    case 'condition': {
      const next = setCondition(g, action.id, action.condition);
      const moved = next.edges.find((e, i) => g.edges[i].id === action.id);
      return withGraph(state, next, { nodes: [], edges: moved ? [moved.id] : [] });
    }
    case 'conf':
      return withGraph(state, updateNode(g, action.id, { conf: action.conf }));
    case 'root':
      return withGraph(state, { ...g, root: action.id });
    case 'meta':
      return { ...state, history: replace(state.history, { ...g, ...action.change }) };
    case 'remove':
      return withGraph(state, remove(g, action), { nodes: [], edges: [] });
    case 'removeSelected':
      return withGraph(state, remove(g, state.selection), { nodes: [], edges: [] });
    case 'checkpoint': // before a drag: the positions before it are one undo step
      return { ...state, history: checkpoint(state.history) };
    case 'move': {
      const at = action.positions;
      return { ...state, history: replace(state.history, { ...g, nodes: g.nodes.map((n) => (at[n.id] ? { ...n, position: at[n.id] } : n)) }) };
    }
    case 'select':
      return { ...state, selection: action.selection };
    case 'copy':
      return state.selection.nodes.length ? { ...state, clipboard: copy(g, state.selection.nodes) } : state;
    case 'paste': {
      if (!state.clipboard) return state;
      const { graph, ids } = paste(g, state.clipboard);
      return withGraph(state, graph, { nodes: ids, edges: [] });
    }
    case 'layout':
      return withGraph(state, layout(g));
    case 'undo':
      return { ...state, history: undo(state.history) };
    case 'redo':
      return { ...state, history: redo(state.history) };
    case 'saved':
      return { ...state, saved: action.saved };
    default:
      throw new Error(`unknown action ${action.type}`);
  }
}

/**
 * Whether the graph differs from what was last saved or opened (an empty new graph has nothing
 * to lose): New, Open and Import ask before replacing it.
 */
export function unsaved(state) {
  const g = state.history.present;
  if (state.saved === null) return g.nodes.length > 0 || g.edges.length > 0;
  try {
    return JSON.stringify(toStoredFlow(g)) !== state.saved;
  } catch {
    return true;
  }
}

export function useStudioStore() {
  return useReducer(reducer, initialState);
}
