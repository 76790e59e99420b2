// Auto-layout with dagre, left to right; positions are React Flow's (top-left corners).
import dagre from '@dagrejs/dagre';

export const NODE_WIDTH = 180;
export const NODE_HEIGHT = 64;

export function layout(graph, direction = 'LR') {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: direction, nodesep: 40, ranksep: 90, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const e of graph.edges) {
    if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target, { label: e.condition, width: 80, height: 20 }, e.id);
  }
  dagre.layout(g);
  return {
    ...graph,
    laidOut: true,
    nodes: graph.nodes.map((n) => {
      const p = g.node(n.id);
      return { ...n, position: { x: Math.round(p.x - NODE_WIDTH / 2), y: Math.round(p.y - NODE_HEIGHT / 2) } };
    }),
  };
}
