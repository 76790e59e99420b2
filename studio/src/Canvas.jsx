import { useCallback, useMemo, useRef, useState } from 'react';
import {
  ReactFlow, Background, Controls, MiniMap, Handle, Position, MarkerType, useReactFlow,
} from '@xyflow/react';
import { DRAG_TYPE } from './Palette.jsx';

function PluginNode({ id, data, selected }) {
  const cls = ['plugin-node', data.problem, data.onPath ? 'on-path' : '', selected ? 'selected' : ''].join(' ');
  return (
    <div className={cls} data-node={id} title={data.messages.join('\n')}>
      <Handle type="target" position={Position.Left} aria-label={`into ${id}`} />
      {data.root && <span className="root-badge" aria-label="root">root</span>}
      <div className="plugin-name">{data.plugin}</div>
      <div className="node-id">{id}</div>
      {data.step && <div className={`step step-${data.step.outcome}`}>{data.step.outcome}{data.step.status ? ` ${data.step.status}` : ''}</div>}
      {data.runs !== undefined && <div className="runs">{data.runs} runs{data.errors ? ` · ${data.errors} errors` : ''}</div>}
      <Handle type="source" position={Position.Right} aria-label={`out of ${id}`} />
    </div>
  );
}

const nodeTypes = { plugin: PluginNode };

export function label(condition) {
  return condition === '' ? 'else' : condition;
}

/**
 * The React Flow canvas over the store's graph. `overlay` carries what is drawn on top: problems
 * by id, the dry-run path, live counts.
 */
export function Canvas({ graph, selection, dispatch, problems, overlay, onReady }) {
  const wrapper = useRef(null);
  const flow = useReactFlow();
  const [measured, setMeasured] = useState({});

  const nodes = useMemo(() => graph.nodes.map((n) => {
    const p = problems.nodes.get(n.id) || [];
    const step = overlay.steps?.get(n.id);
    const live = overlay.stats?.nodes?.[n.id];
    return {
      id: n.id,
      type: 'plugin',
      position: n.position,
      selected: selection.nodes.includes(n.id),
      measured: measured[n.id],
      ariaLabel: `${graph.root === n.id ? 'root ' : ''}node ${n.id}, plugin ${n.plugin}${p.length ? `, ${p.length} problem${p.length > 1 ? 's' : ''}` : ''}`,
      data: {
        plugin: n.plugin,
        root: graph.root === n.id,
        problem: p.some((x) => x.severity === 'error') ? 'node-error' : p.length ? 'node-warning' : '',
        messages: p.map((x) => x.message),
        onPath: !!step,
        step,
        runs: live?.runs,
        errors: live?.errors,
      },
    };
  }), [graph, selection, problems, overlay, measured]);

  const edges = useMemo(() => {
    const counts = new Map();
    let busiest = null;
    for (const c of overlay.stats?.edges || []) {
      const k = `${c.from}->${c.to}:${c.condition}`;
      counts.set(k, c.count);
      if (!busiest || c.count > counts.get(busiest)) busiest = k;
    }
    return graph.edges.map((e) => {
      const p = problems.edges.get(e.id) || [];
      const taken = overlay.path?.has(e.id);
      const count = counts.get(e.id);
      const hot = busiest === e.id && count > 0;
      return {
        id: e.id,
        source: e.source,
        target: e.target,
        selected: selection.edges.includes(e.id),
        label: count !== undefined ? `${label(e.condition)} · ${count}` : label(e.condition),
        className: [p.length ? 'edge-error' : '', taken ? 'on-path' : '', hot ? 'busiest' : ''].join(' '),
        markerEnd: { type: MarkerType.ArrowClosed },
        style: hot ? { strokeWidth: 4 } : count ? { strokeWidth: 2 } : undefined,
        ariaLabel: `edge from ${e.source} to ${e.target} on ${label(e.condition)}`,
        data: { condition: e.condition },
      };
    });
  }, [graph, selection, problems, overlay]);

  const onNodesChange = useCallback((changes) => {
    const positions = {};
    let moved = false;
    const sizes = {};
    let resized = false;
    let selected = null;
    const removed = [];
    for (const c of changes) {
      if (c.type === 'position' && c.position) {
        positions[c.id] = c.position;
        moved = true;
      } else if (c.type === 'dimensions' && c.dimensions) {
        sizes[c.id] = c.dimensions;
        resized = true;
      } else if (c.type === 'select') {
        selected ??= new Set(selection.nodes);
        if (c.selected) selected.add(c.id);
        else selected.delete(c.id);
      } else if (c.type === 'remove') removed.push(c.id);
    }
    if (moved) dispatch({ type: 'move', positions });
    if (resized) setMeasured((m) => ({ ...m, ...sizes }));
    if (selected) dispatch({ type: 'select', selection: { nodes: [...selected], edges: selection.edges } });
    if (removed.length) dispatch({ type: 'remove', nodes: removed, edges: [] });
  }, [dispatch, selection]);

  const onEdgesChange = useCallback((changes) => {
    let selected = null;
    const removed = [];
    for (const c of changes) {
      if (c.type === 'select') {
        selected ??= new Set(selection.edges);
        if (c.selected) selected.add(c.id);
        else selected.delete(c.id);
      } else if (c.type === 'remove') removed.push(c.id);
    }
    if (selected) dispatch({ type: 'select', selection: { nodes: selection.nodes, edges: [...selected] } });
    if (removed.length) dispatch({ type: 'remove', nodes: [], edges: removed });
  }, [dispatch, selection]);

  const onDrop = useCallback((e) => {
    const plugin = e.dataTransfer.getData(DRAG_TYPE);
    if (!plugin) return;
    e.preventDefault();
    dispatch({ type: 'add', plugin, position: flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }) });
  }, [dispatch, flow]);

  return (
    <div
      className="canvas"
      ref={wrapper}
      data-testid="canvas"
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes(DRAG_TYPE)) {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
        }
      }}
      onDrop={onDrop}
    >
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onNodeDragStart={() => dispatch({ type: 'checkpoint' })}
        onConnect={(c) => dispatch({ type: 'connect', source: c.source, target: c.target, condition: '' })}
        onInit={onReady}
        deleteKeyCode={['Delete', 'Backspace']}
        multiSelectionKeyCode={['Shift', 'Meta', 'Control']}
        selectionKeyCode="Shift"
        fitView
        fitViewOptions={{ maxZoom: 1 }}
        proOptions={{ hideAttribution: true }}
        aria-label="Flow canvas"
      >
        <Background />
        <MiniMap pannable zoomable ariaLabel="Mini map" />
        <Controls aria-label="Zoom controls" />
      </ReactFlow>
    </div>
  );
}
