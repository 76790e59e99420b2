// A form generated from a plugin's JSON Schema: defaults, enums, required marks, descriptions,
// writeOnly fields as password inputs, nested objects, arrays of scalars; anything else (oneOf,
// arrays of objects, ...) is edited as JSON text.
import { useEffect, useId, useState } from 'react';
import { fieldOf } from './model/messages.js';

const SCALARS = ['string', 'integer', 'number', 'boolean'];

function typeOf(schema) {
  if (!schema) return null;
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== 'null') ?? null;
  if (schema.type) return schema.type;
  if (schema.enum) return typeof schema.enum[0] === 'number' ? 'number' : 'string';
  if (schema.properties) return 'object';
  return null;
}

function simple(schema) {
  const t = typeOf(schema);
  // An object's oneOf/anyOf usually only says which fields are required together: the fields are
  // still its properties (the server's message names what is missing).
  if (t === 'object' && schema.properties) return true;
  if (!t || schema.oneOf || schema.anyOf) return false;
  if (SCALARS.includes(t)) return true;
  if (t === 'array') return SCALARS.includes(typeOf(schema.items));
  if (t === 'object') return !!schema.properties;
  return false;
}

function JsonField({ id, value, onChange, label }) {
  const [text, setText] = useState(() => JSON.stringify(value ?? null, null, 2));
  const [bad, setBad] = useState(null);
  useEffect(() => {
    setText(JSON.stringify(value ?? null, null, 2));
  }, [JSON.stringify(value)]);
  return (
    <>
      <textarea
        id={id}
        aria-label={`${label} (JSON)`}
        className="json"
        rows={Math.min(10, Math.max(2, text.split('\n').length))}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          try {
            const v = e.target.value.trim() === '' ? undefined : JSON.parse(e.target.value);
            setBad(null);
            onChange(v);
          } catch (err) {
            setBad(err.message);
          }
        }}
      />
      {bad && <div className="field-error" role="alert">JSON: {bad}</div>}
    </>
  );
}

/** Keeps the text as typed ("0.", "-") and hands on a number once it reads as one. */
function NumberInput({ id, schema, value, onChange, label, integer }) {
  const [text, setText] = useState(value === undefined || value === null ? '' : String(value));
  useEffect(() => {
    if (value === undefined || value === null) {
      if (text.trim() !== '' && !Number.isNaN(Number(text))) setText('');
    } else if (Number(text) !== value || text.trim() === '') setText(String(value));
  }, [value]);
  return (
    <input
      id={id}
      aria-label={label}
      type="text"
      inputMode={integer ? 'numeric' : 'decimal'}
      placeholder={schema.default !== undefined ? `default: ${JSON.stringify(schema.default)}` : ''}
      value={text}
      onChange={(e) => {
        const raw = e.target.value;
        setText(raw);
        if (raw.trim() === '') return onChange(undefined);
        const n = Number(raw);
        // A text that is not a number yet is handed on as text: the server says what is wrong.
        onChange(Number.isNaN(n) || /[.eE+-]$/.test(raw.trim()) ? raw : n);
      }}
    />
  );
}

function ScalarInput({ id, schema, value, onChange, label, required }) {
  const t = typeOf(schema);
  if (schema.enum) {
    return (
      <select id={id} aria-label={label} value={value === undefined ? '' : String(value)}
        onChange={(e) => {
          const raw = e.target.value;
          if (raw === '') return onChange(undefined);
          const picked = schema.enum.find((v) => String(v) === raw);
          onChange(picked);
        }}>
        <option value="">{required ? '(choose)' : '(unset)'}</option>
        {schema.enum.map((v) => <option key={String(v)} value={String(v)}>{String(v)}</option>)}
      </select>
    );
  }
  if (t === 'boolean') {
    return (
      <select id={id} aria-label={label} value={value === undefined ? '' : String(value)}
        onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value === 'true')}>
        <option value="">(unset)</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  }
  const numeric = t === 'integer' || t === 'number';
  if (numeric) return <NumberInput id={id} schema={schema} value={value} onChange={onChange} label={label} integer={t === 'integer'} />;
  return (
    <input
      id={id}
      aria-label={label}
      type={schema.writeOnly ? 'password' : numeric ? 'number' : 'text'}
      autoComplete={schema.writeOnly ? 'new-password' : 'off'}
      step={t === 'integer' ? 1 : 'any'}
      min={schema.minimum}
      max={schema.maximum}
      placeholder={schema.default !== undefined ? `default: ${JSON.stringify(schema.default)}` : ''}
      value={value === undefined || value === null ? '' : String(value)}
      onChange={(e) => {
        const raw = e.target.value;
        if (raw === '') return onChange(undefined);
        if (numeric) {
          const n = Number(raw);
          onChange(Number.isNaN(n) ? raw : n);
        } else onChange(raw);
      }}
    />
  );
}

function Field({ name, schema, value, onChange, required, error, path }) {
  const id = useId();
  const t = typeOf(schema);
  const label = path ? `${path}.${name}` : name;
  let control;
  if (!simple(schema)) {
    control = <JsonField id={id} label={label} value={value} onChange={onChange} />;
  } else if (t === 'object') {
    return (
      <fieldset className="nested">
        <legend>{name}{required && <span className="required" aria-label="required"> *</span>}</legend>
        {schema.description && <p className="help">{schema.description}</p>}
        <ObjectFields schema={schema} value={value ?? {}} path={label} error={error}
          onChange={(v) => onChange(Object.keys(v).length ? v : undefined)} />
      </fieldset>
    );
  } else if (t === 'array') {
    const items = Array.isArray(value) ? value : [];
    control = (
      <div className="array" id={id}>
        {items.map((item, i) => (
          <div className="array-item" key={i}>
            <ScalarInput id={`${id}-${i}`} schema={schema.items} value={item} label={`${label}[${i}]`}
              onChange={(v) => onChange(items.map((x, j) => (j === i ? v : x)))} />
            <button type="button" aria-label={`remove ${label}[${i}]`} onClick={() => onChange(items.filter((_, j) => j !== i))}>×</button>
          </div>
        ))}
        <button type="button" aria-label={`add to ${label}`} onClick={() => onChange([...items, schema.items?.default ?? (typeOf(schema.items) === 'string' ? '' : 0)])}>+ add</button>
      </div>
    );
  } else {
    control = <ScalarInput id={id} schema={schema} value={value} onChange={onChange} label={label} required={required} />;
  }
  return (
    <div className={`field${error ? ' has-error' : ''}`} data-field={label}>
      <label htmlFor={id}>
        {name}{required && <span className="required" aria-label="required"> *</span>}
        {schema.writeOnly && <span className="badge"> secret</span>}
      </label>
      {control}
      {schema.description && <p className="help">{schema.description}</p>}
      {error && <div className="field-error" role="alert">{error}</div>}
    </div>
  );
}

function ObjectFields({ schema, value, onChange, error, path }) {
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  const names = Object.keys(props);
  const errorField = fieldOf(error, names);
  return names.map((name) => (
    <Field
      key={name}
      name={name}
      path={path}
      schema={props[name]}
      value={value?.[name]}
      required={required.has(name)}
      error={errorField === name ? error : null}
      onChange={(v) => {
        const next = { ...value };
        if (v === undefined) delete next[name];
        else next[name] = v;
        onChange(next);
      }}
    />
  ));
}

/** The whole form for one plugin's conf. `error` is the server's message, shown at its field. */
export function SchemaForm({ schema, value, onChange, error }) {
  if (!schema) return <p>Loading the schema…</p>;
  if (!simple(schema) || typeOf(schema) !== 'object') {
    return <Field name="conf" schema={{}} value={value} onChange={(v) => onChange(v ?? {})} error={error} />;
  }
  const names = Object.keys(schema.properties || {});
  const shown = fieldOf(error, names);
  const extra = Object.keys(value || {}).filter((k) => !names.includes(k));
  return (
    <div className="schema-form">
      {error && !shown && <div className="field-error" role="alert">{error}</div>}
      <ObjectFields schema={schema} value={value || {}} onChange={onChange} error={error} path="" />
      {extra.length > 0 && (
        <p className="help">Also set, not in the schema: {extra.join(', ')}</p>
      )}
    </div>
  );
}

/** The schema's defaults for a new node's conf (required fields with a default only). */
export function defaultsOf(schema) {
  const out = {};
  for (const name of schema?.required || []) {
    const p = schema.properties?.[name];
    if (p && p.default !== undefined) out[name] = p.default;
  }
  return out;
}
