import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ReactFlowProvider } from '@xyflow/react';
import { toPng, toSvg } from 'html-to-image';
import { absent, admin, reason } from './api.js';
import { Canvas, label } from './Canvas.jsx';
import { Palette } from './Palette.jsx';
import { ConnectForm, EdgeInspector, NodeInspector, schemaOf } from './Inspector.jsx';
import { unsaved } from './store.js';
import {
  validate, problemsByTarget, toDag, toStoredFlow, toPluginFlowYaml, toStandaloneYaml, importAny,
  fromDag, canUndo, canRedo, emptyGraph, nodeOf, secretPaths, DNS_1123, dnsName, operatorFlowId,
} from './model/index.js';

function download(name, href) {
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

function textUrl(text, type) {
  return URL.createObjectURL(new Blob([text], { type }));
}

export function Editor({ state, dispatch, plugins }) {
  const graph = state.history.present;
  const known = useMemo(() => new Set(Object.keys(plugins || {})), [plugins]);
  const problems = useMemo(() => validate(graph, plugins ? known : undefined), [graph, known, plugins]);
  const byTarget = useMemo(() => problemsByTarget(problems), [problems]);
  const [message, setMessage] = useState(null);
  const [saveError, setSaveError] = useState(null);
  const [flows, setFlows] = useState([]);
  const [routes, setRoutes] = useState([]);
  const [exported, setExported] = useState(null);
  const [withSecrets, setWithSecrets] = useState(true);
  const [importText, setImportText] = useState('');
  const [dry, setDry] = useState(null);
  const [live, setLive] = useState(false);
  const [windowSeconds, setWindowSeconds] = useState(60);
  const [stats, setStats] = useState(null);
  // Panels whose endpoint the server does not have (an older one): hidden, said once.
  const [missing, setMissing] = useState(() => new Set());
  const hide = (panel, e) => {
    setMissing((m) => new Set(m).add(panel));
    setMessage({ text: `${panel}: this server has no such endpoint (${e.status}); the panel is hidden` });
  };
  const instance = useRef(null);

  const refresh = useCallback(async () => {
    try {
      setFlows(await admin.flows());
      setRoutes(await admin.routes());
    } catch (e) {
      setMessage({ error: true, text: e.message });
    }
  }, []);
  useEffect(() => {
    refresh();
  }, [refresh]);

  useEffect(() => {
    if (!live || !graph.id || missing.has('live view')) {
      setStats(null);
      return undefined;
    }
    let stop = false;
    let t = null;
    const poll = async () => {
      try {
        const s = await admin.stats(graph.id, windowSeconds);
        if (!stop) setStats(s);
      } catch (e) {
        if (stop) return;
        // A refusal (no such endpoint, a flow not saved yet) is said once and the polling stops;
        // a failed call (the server restarting) is said and tried again.
        if (absent(e)) hide('live view', e);
        else setMessage({ error: true, text: `live view: ${e.message}` });
        if (e.status >= 400 && e.status < 500) {
          clearInterval(t);
          setLive(false);
        }
      }
    };
    poll();
    t = setInterval(poll, 2000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, [live, graph.id, windowSeconds, missing]);

  const overlay = useMemo(() => {
    if (!dry) return { stats };
    const steps = new Map((dry.steps || []).map((s) => [s.node, s]));
    const path = new Set((dry.edges || []).map((e) => `${e.from}->${e.to}:${e.condition}`));
    return { steps, path, stats };
  }, [dry, stats]);

  const selectedNode = state.selection.nodes.length === 1 ? graph.nodes.find((n) => n.id === state.selection.nodes[0]) : null;
  const selectedEdge = !selectedNode && state.selection.edges.length === 1 ? graph.edges.find((e) => e.id === state.selection.edges[0]) : null;
  const usedBy = routes.filter((r) => graph.id && r.plugin_flow_id === graph.id);

  // New, Open and Import replace the graph: with unsaved changes, only once confirmed.
  const mayReplace = (what) => !unsaved(state) || window.confirm(`${what}: the changes to this flow are not saved and will be lost. Go on?`);

  const save = async () => {
    if (!graph.id) {
      setMessage({ error: true, text: 'flow id: empty (expected: an id such as gatekeeper)' });
      return;
    }
    try {
      const value = toStoredFlow(graph);
      await admin.saveFlow(graph.id, value);
      dispatch({ type: 'saved', saved: JSON.stringify(value) });
      setSaveError(null);
      setMessage({ text: `saved plugin flow ${graph.id}` });
      refresh();
    } catch (e) {
      const text = reason(e);
      setSaveError(text);
      setMessage({ error: true, text: `not saved: ${text}` });
      const at = nodeOf(text, graph);
      if (at) dispatch({ type: 'select', selection: { nodes: [at], edges: [] } });
    }
  };

  const open = async (id) => {
    if (!mayReplace(`open ${id}`)) return;
    try {
      const value = await admin.flow(id);
      dispatch({ type: 'load', graph: fromDag(value, id), saved: true });
      setDry(null);
      setSaveError(null);
      setMessage({ text: `opened plugin flow ${id}` });
    } catch (e) {
      setMessage({ error: true, text: e.message });
    }
  };

  const exportAs = async (kind) => {
    const name = graph.id || 'flow';
    if (kind === 'png' || kind === 'svg') {
      const el = document.querySelector('.react-flow');
      const filter = (n) => !(n.classList && (n.classList.contains('react-flow__minimap') || n.classList.contains('react-flow__controls')));
      try {
        const url = kind === 'png' ? await toPng(el, { filter, backgroundColor: '#fff' }) : await toSvg(el, { filter });
        download(`${name}.${kind}`, url);
        setMessage({ text: `exported ${name}.${kind}` });
      } catch (e) {
        setMessage({ error: true, text: `export ${kind}: ${e.message || e}` });
      }
      return;
    }
    try {
      // The secret (writeOnly) fields with a value, by node, from each plugin's schema.
      const secrets = {};
      for (const n of graph.nodes) {
        const paths = secretPaths(n.conf, await schemaOf(n.plugin).catch(() => null));
        if (paths.length) secrets[n.id] = paths;
      }
      const leaveOut = withSecrets ? undefined : secrets;
      const text = kind === 'dag'
        ? `${JSON.stringify(toDag(graph), null, 2)}\n`
        : kind === 'resource' ? toPluginFlowYaml(graph, undefined, leaveOut) : toStandaloneYaml(graph, leaveOut);
      const file = kind === 'dag' ? `${name}.json` : kind === 'resource' ? `${name}-pluginflow.yaml` : `${name}-apisix.yaml`;
      const list = Object.entries(secrets).flatMap(([nid, paths]) => paths.map((p) => `${nid}: ${p}`));
      const notes = [];
      if (list.length) {
        notes.push(withSecrets || kind === 'dag'
          ? `this export holds secret values: ${list.join(', ')}`
          : `secrets left out: ${list.join(', ')}${kind === 'resource' ? ' (in a Secret per node, referenced by secretRef)' : ' (a comment marks each)'}`);
      }
      let rename = null;
      if (kind === 'resource') {
        if (!DNS_1123.test(graph.id || 'flow')) {
          rename = dnsName(graph.id || 'flow');
          notes.push(`"${graph.id}" is not a Kubernetes name (DNS-1123: lower case, digits, - and .); suggested: ${rename}`);
        }
        const md = graph.resource?.metadata || {};
        notes.push(`the operator stores it as plugin flow ${operatorFlowId(md.namespace, rename || graph.id || 'flow')}: routes must use that id`);
      }
      setExported({ kind, text, file, notes, rename });
    } catch (e) {
      setMessage({ error: true, text: `export: ${e.message}` });
    }
  };

  const doImport = (text) => {
    if (!mayReplace('import')) return;
    try {
      dispatch({ type: 'load', graph: importAny(text) });
      setMessage({ text: 'imported' });
      setDry(null);
    } catch (e) {
      setMessage({ error: true, text: `import: ${e.message}` });
    }
  };

  const runDry = async (sample) => {
    try {
      const flow = toStoredFlow(graph);
      setDry(await admin.dryRun(graph.id ? { id: graph.id, ...flow } : flow, sample));
      setMessage({ text: 'dry run done: its path is drawn on the canvas' });
    } catch (e) {
      setDry(null);
      if (absent(e)) hide('dry run', e);
      else setMessage({ error: true, text: `dry run: ${reason(e)}` });
    }
  };

  const onKeyDown = (e) => {
    if (e.target.closest('input, textarea, select')) return;
    const mod = e.ctrlKey || e.metaKey;
    if (mod && e.key.toLowerCase() === 'z') {
      e.preventDefault();
      dispatch({ type: e.shiftKey ? 'redo' : 'undo' });
    } else if (mod && e.key.toLowerCase() === 'y') {
      e.preventDefault();
      dispatch({ type: 'redo' });
    } else if (mod && e.key.toLowerCase() === 'c') {
      dispatch({ type: 'copy' });
    } else if (mod && e.key.toLowerCase() === 'v') {
      dispatch({ type: 'paste' });
    }
  };

  return (
    <div className="editor" onKeyDown={onKeyDown}>
      <div className="flowbar" role="toolbar" aria-label="Flow">
        <label htmlFor="flow-id">Flow id</label>
        <input id="flow-id" value={graph.id} onChange={(e) => dispatch({ type: 'meta', change: { id: e.target.value.trim() } })} />
        <label htmlFor="flow-name">Name</label>
        <input id="flow-name" value={graph.name} onChange={(e) => dispatch({ type: 'meta', change: { name: e.target.value } })} />
        <button type="button" onClick={() => { if (!mayReplace('new flow')) return; dispatch({ type: 'load', graph: emptyGraph() }); setDry(null); setSaveError(null); }}>New</button>
        <button type="button" onClick={save}>Save</button>
        <label htmlFor="open-flow">Open</label>
        <select id="open-flow" value="" onChange={(e) => e.target.value && open(e.target.value)}>
          <option value="">(choose a flow)</option>
          {flows.map((f) => <option key={f.id} value={f.id}>{f.id}{f.name ? ` · ${f.name}` : ''}</option>)}
        </select>
        <button type="button" disabled={!graph.id} onClick={async () => {
          try {
            await admin.deleteFlow(graph.id);
            setMessage({ text: `deleted plugin flow ${graph.id}` });
            refresh();
          } catch (e) {
            setMessage({ error: true, text: `not deleted: ${reason(e)}` });
          }
        }}>Delete</button>
        <span className="sep" />
        <button type="button" aria-label="Undo" disabled={!canUndo(state.history)} onClick={() => dispatch({ type: 'undo' })}>Undo</button>
        <button type="button" aria-label="Redo" disabled={!canRedo(state.history)} onClick={() => dispatch({ type: 'redo' })}>Redo</button>
        <button type="button" onClick={() => { dispatch({ type: 'layout' }); requestAnimationFrame(() => instance.current?.fitView({ maxZoom: 1 })); }}>Auto-layout</button>
        <button type="button" onClick={() => instance.current?.fitView()}>Fit view</button>
        <button type="button" disabled={!state.selection.nodes.length} onClick={() => dispatch({ type: 'copy' })}>Copy</button>
        <button type="button" disabled={!state.clipboard} onClick={() => dispatch({ type: 'paste' })}>Paste</button>
        <button type="button" disabled={!state.selection.nodes.length && !state.selection.edges.length} onClick={() => dispatch({ type: 'removeSelected' })}>Delete selected</button>
        {!missing.has('live view') && (
          <>
            <label className="toggle"><input id="live" type="checkbox" checked={live} disabled={!graph.id} onChange={(e) => setLive(e.target.checked)} /> Live view</label>
            <label htmlFor="live-window">over</label>
            <select id="live-window" value={windowSeconds} onChange={(e) => setWindowSeconds(Number(e.target.value))}>
              {[10, 60, 300, 900, 3600].map((w) => <option key={w} value={w}>{w < 60 ? `${w} s` : `${w / 60} min`}</option>)}
            </select>
          </>
        )}
      </div>
      {message && <div className={message.error ? 'message error' : 'message'} role={message.error ? 'alert' : 'status'} data-testid="message">{message.text}</div>}
      <div className="workspace">
        <Palette plugins={plugins} onAdd={(plugin) => dispatch({ type: 'add', plugin })} />
        <div className="center">
          <ReactFlowProvider>
            <Canvas graph={graph} selection={state.selection} dispatch={dispatch} problems={byTarget} overlay={overlay}
              onReady={(i) => { instance.current = i; }} />
          </ReactFlowProvider>
          <ConnectForm graph={graph} dispatch={dispatch} />
          <section className="problems" aria-label="Problems">
            <h2>Problems ({problems.length})</h2>
            <ul>
              {problems.map((p, i) => (
                <li key={i} className={p.severity}>
                  <button type="button" className="link" onClick={() => p.id && dispatch({ type: 'select', selection: p.on === 'edge' ? { nodes: [], edges: [p.id] } : { nodes: [p.id], edges: [] } })}>
                    {p.severity}: {p.message}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        </div>
        <aside className="side">
          {selectedNode && <NodeInspector key={selectedNode.id} node={selectedNode} isRoot={graph.root === selectedNode.id} dispatch={dispatch}
            serverError={saveError && nodeOf(saveError, graph) === selectedNode.id ? saveError : null} />}
          {selectedEdge && <EdgeInspector key={selectedEdge.id} edge={selectedEdge} dispatch={dispatch} />}
          {!selectedNode && !selectedEdge && <p className="help">Select a node to configure it, or an edge to set its condition.</p>}
          <RoutesPanel flowId={graph.id} routes={routes} usedBy={usedBy} onAttach={async (rid) => {
            try {
              await admin.attach(rid, graph.id);
              setMessage({ text: `route ${rid} runs plugin flow ${graph.id}` });
              refresh();
            } catch (e) {
              setMessage({ error: true, text: `not attached: ${reason(e)}` });
            }
          }} />
          {!missing.has('dry run') && <DryRunPanel disabled={graph.nodes.length === 0} onRun={runDry} result={dry} onClear={() => setDry(null)} />}
          <section className="io" aria-label="Import and export">
            <h2>Export</h2>
            <div className="buttons">
              <button type="button" onClick={() => exportAs('dag')}>DAG JSON</button>
              <button type="button" onClick={() => exportAs('resource')}>PluginFlow YAML</button>
              <button type="button" onClick={() => exportAs('standalone')}>Standalone YAML</button>
              <button type="button" onClick={() => exportAs('png')}>PNG</button>
              <button type="button" onClick={() => exportAs('svg')}>SVG</button>
            </div>
            <label className="toggle"><input id="export-secrets" type="checkbox" checked={withSecrets} onChange={(e) => setWithSecrets(e.target.checked)} /> with secret values (YAML exports; untick to export without secrets)</label>
            {exported && (
              <>
                {exported.notes.map((n) => <p key={n} className="help export-note">{n}</p>)}
                {exported.rename && (
                  <button type="button" onClick={() => { dispatch({ type: 'meta', change: { id: exported.rename } }); setExported(null); }}>Use {exported.rename} as the flow id</button>
                )}
                <label htmlFor="export-text">Exported {exported.file}</label>
                <textarea id="export-text" readOnly rows={10} value={exported.text} />
                <button type="button" onClick={() => download(exported.file, textUrl(exported.text, 'text/plain'))}>Download {exported.file}</button>
              </>
            )}
            <h2>Import</h2>
            <label htmlFor="import-text">DAG JSON, PluginFlow YAML or standalone YAML</label>
            <textarea id="import-text" rows={6} value={importText} onChange={(e) => setImportText(e.target.value)} />
            <button type="button" onClick={() => doImport(importText)}>Import text</button>
            <label htmlFor="import-file">Import a file</label>
            <input id="import-file" type="file" accept=".json,.yaml,.yml" onChange={async (e) => {
              const f = e.target.files?.[0];
              if (f) doImport(await f.text());
              e.target.value = '';
            }} />
          </section>
        </aside>
      </div>
    </div>
  );
}

function RoutesPanel({ flowId, routes, usedBy, onAttach }) {
  const [pick, setPick] = useState('');
  const others = routes.filter((r) => r.plugin_flow_id !== flowId);
  return (
    <section className="routes" aria-label="Routes using this flow">
      <h2>Routes using it</h2>
      {usedBy.length === 0 ? <p className="help">No route runs this flow.</p> : (
        <ul>{usedBy.map((r) => <li key={r.id}>{r.id} <code>{r.uri || (r.uris || []).join(' ')}</code></li>)}</ul>
      )}
      <label htmlFor="attach-route">Attach to route</label>
      <select id="attach-route" value={pick} onChange={(e) => setPick(e.target.value)}>
        <option value="">(choose a route)</option>
        {others.map((r) => <option key={r.id} value={r.id}>{r.id} {r.uri || ''}</option>)}
      </select>
      <button type="button" disabled={!pick || !flowId} onClick={() => onAttach(pick)}>Attach</button>
    </section>
  );
}

const json = (what, text) => {
  try {
    const v = JSON.parse(text || '{}');
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('expected an object of name: value');
    return v;
  } catch (err) {
    throw new Error(`${what}: ${err.message}`);
  }
};

/** A sample request (and, optionally, the upstream's answer) run through the flow as drawn. */
function DryRunPanel({ disabled, onRun, result, onClear }) {
  const [method, setMethod] = useState('GET');
  const [uri, setUri] = useState('/');
  const [headers, setHeaders] = useState('{}');
  const [body, setBody] = useState('');
  const [fake, setFake] = useState(false);
  const [status, setStatus] = useState('200');
  const [upHeaders, setUpHeaders] = useState('{}');
  const [upBody, setUpBody] = useState('');
  const [problem, setProblem] = useState(null);
  return (
    <section className="dry-run" aria-label="Dry run">
      <h2>Dry run</h2>
      <form onSubmit={(e) => {
        e.preventDefault();
        try {
          const sample = { request: { method, uri, headers: json('headers', headers), body } };
          if (fake) sample.upstream_response = { status: Number(status), headers: json('upstream headers', upHeaders), body: upBody };
          setProblem(null);
          onRun(sample);
        } catch (err) {
          setProblem(err.message);
        }
      }}>
        <label htmlFor="dry-method">Method</label>
        <select id="dry-method" value={method} onChange={(e) => setMethod(e.target.value)}>
          {['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'].map((m) => <option key={m}>{m}</option>)}
        </select>
        <label htmlFor="dry-uri">Path</label>
        <input id="dry-uri" value={uri} onChange={(e) => setUri(e.target.value)} />
        <label htmlFor="dry-headers">Headers (JSON)</label>
        <textarea id="dry-headers" rows={2} value={headers} onChange={(e) => setHeaders(e.target.value)} />
        <label htmlFor="dry-body">Body</label>
        <textarea id="dry-body" rows={2} value={body} onChange={(e) => setBody(e.target.value)} />
        <label className="toggle"><input id="dry-fake" type="checkbox" checked={fake} onChange={(e) => setFake(e.target.checked)} /> Upstream answer (else 200, empty)</label>
        {fake && (
          <>
            <label htmlFor="dry-status">Upstream status</label>
            <input id="dry-status" type="number" min="100" max="599" value={status} onChange={(e) => setStatus(e.target.value)} />
            <label htmlFor="dry-up-headers">Upstream headers (JSON)</label>
            <textarea id="dry-up-headers" rows={2} value={upHeaders} onChange={(e) => setUpHeaders(e.target.value)} />
            <label htmlFor="dry-up-body">Upstream body</label>
            <textarea id="dry-up-body" rows={2} value={upBody} onChange={(e) => setUpBody(e.target.value)} />
          </>
        )}
        <button type="submit" disabled={disabled}>Send sample request</button>
        {result && <button type="button" onClick={onClear}>Clear path</button>}
        {problem && <div className="field-error" role="alert">{problem}</div>}
      </form>
      {result && (
        <div className="dry-result" data-testid="dry-result">
          <ol>
            {(result.steps || []).map((s, i) => (
              <li key={i} data-step={s.node}>
                <strong>{s.node}</strong> ({s.plugin}{s.phase ? `, ${s.phase}` : ''}): {s.outcome}{s.status ? ` ${s.status}` : ''}
                {s.error_msg ? ` — ${s.error_msg}` : ''}
                {s.published && Object.keys(s.published).length > 0 && (
                  <div className="published">published: {Object.entries(s.published).map(([k, v]) => `${k}=${v}`).join(', ')}</div>
                )}
                {s.simulated && <div className="simulated">simulated: {s.simulated}</div>}
              </li>
            ))}
          </ol>
          <p>Path: {(result.edges || []).map((e) => `${e.from} →[${label(e.condition)}] ${e.to}`).join(', ') || '—'}</p>
          {result.response && <p>Response: {result.response.status}</p>}
          {(result.logs || []).length > 0 && (
            <>
              <h3>Logs (not sent)</h3>
              <ul className="logs">
                {result.logs.map((l, i) => <li key={i} data-log={l.node}>{l.node} ({l.plugin}): <code>{JSON.stringify(l.entry)}</code></li>)}
              </ul>
            </>
          )}
        </div>
      )}
    </section>
  );
}
