import { useEffect, useRef, useState } from 'react';
import { SchemaForm } from './SchemaForm.jsx';
import { absent as noEndpoint, admin, reason } from './api.js';
import { OPERATORS, conditionError, conditionKind, conditionToVars, varsToCondition, outcomeCondition } from './model/index.js';

const schemaCache = new Map();
// Live validation needs the server's POST /schema/validate/plugin_configs; a server without it
// answers 404/405 or refuses the method: then the form is checked on save only.
let liveValidation = true;
const absent = (e) => noEndpoint(e) || e.status === 404 || (e.status === 400 && /^method \w+ \(expected/.test(e.body?.error_msg ?? ''));

/** The schema of `plugin` (cached), for callers outside React (the export's secret list). */
export async function schemaOf(plugin) {
  if (!schemaCache.has(plugin)) schemaCache.set(plugin, await admin.schema(plugin));
  return schemaCache.get(plugin);
}

export function useSchema(plugin) {
  const [schema, setSchema] = useState(() => schemaCache.get(plugin) ?? null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (!plugin) return;
    if (schemaCache.has(plugin)) {
      setSchema(schemaCache.get(plugin));
      return;
    }
    setSchema(null);
    admin.schema(plugin).then(
      (s) => {
        schemaCache.set(plugin, s);
        setSchema(s);
      },
      (e) => setError(e.message),
    );
  }, [plugin]);
  return { schema, error };
}

/** The node's plugin form, validated live by the server (debounced). */
export function NodeInspector({ node, isRoot, dispatch, serverError }) {
  const { schema, error: schemaError } = useSchema(node.plugin);
  const [liveError, setLiveError] = useState(null);
  const timer = useRef(null);
  useEffect(() => {
    clearTimeout(timer.current);
    if (!liveValidation) return undefined;
    timer.current = setTimeout(() => {
      admin.validatePlugin(node.plugin, node.conf ?? {}).then(
        () => setLiveError(null),
        (e) => {
          if (absent(e)) liveValidation = false;
          setLiveError(e.status === 400 && !absent(e) ? reason(e) : null);
        },
      );
    }, 400);
    return () => clearTimeout(timer.current);
  }, [node.plugin, JSON.stringify(node.conf)]);
  const error = liveError || serverError;
  return (
    <section className="inspector" aria-label={`node ${node.id}`}>
      <h2>{node.plugin} <small>({node.id})</small></h2>
      {isRoot ? <p className="root-note">This node runs first (the root).</p> : (
        <button type="button" onClick={() => dispatch({ type: 'root', id: node.id })}>Make root</button>
      )}
      {schemaError && <div className="field-error" role="alert">{schemaError}</div>}
      <form aria-label={`${node.plugin} configuration`} onSubmit={(e) => e.preventDefault()}>
        {node.conf === undefined && <div className="field-error" role="alert">no conf: it is added (empty) once a field is set</div>}
        <SchemaForm schema={schema} value={node.conf ?? {}} error={error}
          onChange={(conf) => dispatch({ type: 'conf', id: node.id, conf })} />
      </form>
    </section>
  );
}

/** Editor of one condition: default, an outcome (code op status), request vars, or free text. */
export function ConditionEditor({ value, onChange, idPrefix }) {
  const [kind, setKind] = useState(() => conditionKind(value));
  const [text, setText] = useState(value);
  const [vars, setVars] = useState(() => conditionToVars(value) ?? [['arg_name', '==', '']]);
  const parsed = (v) => /^code\s*(==|~=|!=|<=|>=|<|>)\s*(\d*)$/.exec(v.trim()) || [null, '==', '200'];
  const [op, setOp] = useState(() => parsed(value)[1]);
  const [status, setStatus] = useState(() => parsed(value)[2]);
  const [problem, setProblem] = useState(null);
  // What this editor itself last applied: when it comes back as `value`, the kind and the fields
  // being typed in stay as they are (an outcome being typed is not re-read as an expression).
  const applied = useRef(value);
  useEffect(() => {
    if (value === applied.current) return;
    applied.current = value;
    setKind(conditionKind(value));
    setText(value);
    setVars(conditionToVars(value) ?? [['arg_name', '==', '']]);
    setOp(parsed(value)[1]);
    setStatus(parsed(value)[2]);
  }, [value]);
  const submit = (next) => {
    const why = conditionError(next);
    setProblem(why);
    if (!why) {
      applied.current = next;
      onChange(next);
    }
  };
  const outcome = (o, st) => {
    setOp(o);
    setStatus(st);
    if (/^[1-5]\d\d$/.test(st)) submit(outcomeCondition(o, st));
    else setProblem(`status code: "${st}" (expected: 100 to 599)`);
  };
  return (
    <div className="condition-editor">
      <label htmlFor={`${idPrefix}-kind`}>Condition kind</label>
      <select id={`${idPrefix}-kind`} value={kind} onChange={(e) => {
        const k = e.target.value;
        setKind(k);
        if (k === 'default') submit('');
        if (k === 'outcome') outcome(op, status);
      }}>
        <option value="default">default (else)</option>
        <option value="outcome">the plugin's outcome (code)</option>
        <option value="vars">request variables (vars)</option>
        <option value="expression">expression</option>
      </select>
      {kind === 'outcome' && (
        <div className="row">
          <span>code</span>
          <select aria-label="comparison" value={op} onChange={(e) => outcome(e.target.value, status)}>
            {OPERATORS.filter((o) => o !== '~~').map((o) => <option key={o} value={o}>{o}</option>)}
          </select>
          <input aria-label="status code" type="number" min="100" max="599" value={status}
            onChange={(e) => outcome(op, e.target.value)} />
        </div>
      )}
      {kind === 'vars' && (
        <div className="vars">
          {vars.map(([name, op, v], i) => (
            <div className="row" key={i}>
              <input aria-label={`variable ${i + 1}`} value={name} onChange={(e) => setVars(vars.map((t, j) => (j === i ? [e.target.value, op, v] : t)))} />
              <select aria-label={`operator ${i + 1}`} value={op} onChange={(e) => setVars(vars.map((t, j) => (j === i ? [name, e.target.value, v] : t)))}>
                {OPERATORS.map((o) => <option key={o} value={o}>{o}</option>)}
              </select>
              <input aria-label={`value ${i + 1}`} value={v ?? ''} onChange={(e) => setVars(vars.map((t, j) => (j === i ? [name, op, e.target.value] : t)))} />
              <button type="button" aria-label={`remove term ${i + 1}`} onClick={() => setVars(vars.filter((_, j) => j !== i))}>×</button>
            </div>
          ))}
          <button type="button" onClick={() => setVars([...vars, ['arg_name', '==', '']])}>+ term</button>
          <button type="button" onClick={() => {
            try {
              submit(varsToCondition(vars.map(([n, o, v]) => [n, o, /^-?\d+(\.\d+)?$/.test(String(v)) ? Number(v) : v])));
            } catch (e) {
              setProblem(e.message);
            }
          }}>Apply vars</button>
        </div>
      )}
      {kind === 'expression' && (
        <div className="row">
          <label htmlFor={`${idPrefix}-text`}>Expression</label>
          <input id={`${idPrefix}-text`} value={text} onChange={(e) => setText(e.target.value)} />
          <button type="button" onClick={() => submit(text)}>Apply</button>
        </div>
      )}
      <p className="help">Stored as: <code>{JSON.stringify(value)}</code></p>
      {problem && <div className="field-error" role="alert">{problem}</div>}
    </div>
  );
}

export function EdgeInspector({ edge, dispatch }) {
  return (
    <section className="inspector" aria-label={`edge ${edge.source} to ${edge.target}`}>
      <h2>{edge.source} → {edge.target}</h2>
      <ConditionEditor idPrefix="edge" value={edge.condition} onChange={(c) => dispatch({ type: 'condition', id: edge.id, condition: c })} />
      <button type="button" onClick={() => dispatch({ type: 'remove', nodes: [], edges: [edge.id] })}>Delete edge</button>
    </section>
  );
}

/** "connect [node] to [node] on [condition]": edges without a mouse. */
export function ConnectForm({ graph, dispatch }) {
  const [source, setSource] = useState('');
  const [target, setTarget] = useState('');
  const [condition, setCondition] = useState('');
  const [problem, setProblem] = useState(null);
  const ids = graph.nodes.map((n) => n.id);
  return (
    <form className="connect-form" aria-label="Connect nodes" onSubmit={(e) => {
      e.preventDefault();
      const s = source || ids[0];
      const t = target || ids[1] || ids[0];
      const why = !s || !t ? 'add two nodes first' : conditionError(condition);
      setProblem(why);
      if (!why) dispatch({ type: 'connect', source: s, target: t, condition });
    }}>
      <label htmlFor="connect-source">connect</label>
      <select id="connect-source" value={source || ids[0] || ''} onChange={(e) => setSource(e.target.value)}>
        {ids.map((id) => <option key={id} value={id}>{id}</option>)}
      </select>
      <label htmlFor="connect-target">to</label>
      <select id="connect-target" value={target || ids[1] || ids[0] || ''} onChange={(e) => setTarget(e.target.value)}>
        {ids.map((id) => <option key={id} value={id}>{id}</option>)}
      </select>
      <label htmlFor="connect-condition">on</label>
      <input id="connect-condition" value={condition} placeholder='code == 401 (empty: else)' onChange={(e) => setCondition(e.target.value)} />
      <button type="submit">Connect</button>
      {problem && <div className="field-error" role="alert">{problem}</div>}
    </form>
  );
}
