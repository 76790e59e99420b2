// Edge conditions, in the language the dataplane accepts (model FlowCondition, run by the
// dataplane's flow Conditions): "" is the default branch; `code == 401` an outcome of the previous
// plugin; names may also be request variables (arg_*, http_*, cookie_*, uri, remote_addr, ...).
// APISIX's `vars` form ([["arg_env", "==", "prod"], ...]) is offered for editing and written as
// the same text (terms joined with `and`).

export const OPERATORS = ['==', '~=', '!=', '<', '<=', '>', '>=', '~~'];
const NUMBER = /^-?\d+(\.\d+)?$/;
const OUTCOME = /^code\s*(==|~=|!=|<=|>=|<|>)\s*(\d{3})$/;

/** Tokens of a condition, or throws an Error whose message says where and what was expected. */
function tokenize(text) {
  const tokens = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c === '(' ? 'open' : 'close', text: c, at: i++ });
    } else if (c === "'" || c === '"') {
      const start = i++;
      let out = '';
      while (i < n && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < n) i++;
        out += text[i++];
      }
      if (i >= n) throw new Error(`at ${start + 1}: string not closed (expected: ${c})`);
      i++;
      tokens.push({ kind: 'string', text: out, at: start });
    } else if (/\d/.test(c) || (c === '-' && /\d/.test(text[i + 1] || ''))) {
      const start = i++;
      while (i < n && /[\d.]/.test(text[i])) i++;
      tokens.push({ kind: 'number', text: text.slice(start, i), at: start });
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i++;
      while (i < n && /[A-Za-z0-9_.-]/.test(text[i])) i++;
      tokens.push({ kind: 'name', text: text.slice(start, i), at: start });
    } else if ('=~!<>'.includes(c)) {
      const start = i++;
      if (i < n && (text[i] === '=' || (c === '~' && text[i] === '~'))) i++;
      const op = text.slice(start, i);
      if (op === '=' || op === '!' || op === '~') {
        throw new Error(`at ${start + 1}: "${op}" (expected: ${OPERATORS.join(', ')})`);
      }
      tokens.push({ kind: 'op', text: op, at: start });
    } else {
      throw new Error(`at ${i + 1}: "${c}" (expected: a name, a value, an operator or ( ))`);
    }
  }
  return tokens;
}

/**
 * Parses `text` into {or|and|not|present|compare}; throws an Error naming the position, as the
 * server's message does.
 */
export function parseCondition(text) {
  const tokens = tokenize(text);
  let next = 0;
  let depth = 0;
  const peek = () => tokens[next];
  const error = (expected) => {
    const t = peek();
    return new Error(t ? `at ${t.at + 1}: "${t.text}" (expected: ${expected})` : `at the end (expected: ${expected})`);
  };
  const keyword = (w) => {
    const t = peek();
    if (t && t.kind === 'name' && t.text === w) {
      next++;
      return true;
    }
    return false;
  };
  const nest = () => {
    if (++depth > 64) throw error('at most 64 nested "not" and "("');
  };
  function or() {
    const terms = [and()];
    while (keyword('or')) terms.push(and());
    return terms.length === 1 ? terms[0] : { or: terms };
  }
  function and() {
    const terms = [unary()];
    while (keyword('and')) terms.push(unary());
    return terms.length === 1 ? terms[0] : { and: terms };
  }
  function unary() {
    if (keyword('not')) {
      nest();
      const term = unary();
      depth--;
      return { not: term };
    }
    const t = peek();
    if (t && t.kind === 'open') {
      next++;
      nest();
      const e = or();
      depth--;
      if (!peek() || peek().kind !== 'close') throw error(')');
      next++;
      return e;
    }
    if (!t || t.kind !== 'name' || ['and', 'or', 'not'].includes(t.text)) throw error('a name');
    next++;
    const op = peek();
    if (!op || op.kind !== 'op') return { present: t.text };
    next++;
    const v = peek();
    if (!v || !['number', 'string', 'name'].includes(v.kind)) throw error('a number, a string, true, false or nil');
    if (v.kind === 'name' && !['true', 'false', 'nil'].includes(v.text)) throw error('a number, a string, true, false or nil');
    next++;
    // As the server's FlowCondition: a number literal must parse; <, <=, >, >= need a finite
    // number; ~~ a 'string' that compiles as an RE2 expression.
    let value = v.kind === 'name' && v.text === 'nil' ? null : v.text;
    if (v.kind === 'number') {
      if (!/^-?\d+(\.\d*)?$/.test(v.text)) {
        next--;
        throw error('a number');
      }
      value = Number(v.text);
    }
    if (['<', '<=', '>', '>='].includes(op.text) && !(v.kind === 'number' && Number.isFinite(value))) {
      next--;
      throw error(`a number after ${op.text}`);
    }
    if (op.text === '~~') {
      if (v.kind !== 'string') {
        next--;
        throw error("a 'regular expression' after ~~");
      }
      const why = re2Problem(v.text);
      if (why) throw new Error(`at ${v.at + 1}: "${v.text}" (expected: a valid regular expression in RE2 syntax, without backreferences or lookaround: ${why})`);
    }
    return { compare: [t.text, op.text, value] };
  }
  if (tokens.length === 0) throw new Error('at the end (expected: a name)');
  const e = or();
  if (peek()) throw error('and, or, ) or the end');
  return e;
}

/**
 * null when `regex` compiles as RE2 (the server's regular expressions) would, else why not:
 * lookaround and backreferences are refused; RE2's own syntax JavaScript lacks (inline flags,
 * `(?P<name>`, `\A`, `\z`) is rewritten before JavaScript's parser checks the rest.
 */
export function re2Problem(regex) {
  if (/\(\?<?[=!]/.test(regex)) return 'lookaround';
  if (/\\(?:[1-9]|k<)/.test(regex.replace(/\\\\/g, ''))) return 'a backreference';
  const js = regex
    .replace(/\(\?[imsU-]+\)/g, '')
    .replace(/\(\?[imsU-]+:/g, '(?:')
    .replace(/\(\?P</g, '(?<')
    .replace(/\\A/g, '^')
    .replace(/\\z/g, '$');
  try {
    new RegExp(js); // eslint-disable-line no-new
    return null;
  } catch (e) {
    return e.message.replace(/^Invalid regular expression: /, '');
  }
}

/** null when `text` is a condition the server accepts ("" included), else the reason. */
export function conditionError(text) {
  if (text.trim() === '') return null;
  try {
    parseCondition(text);
    return null;
  } catch (e) {
    return e.message;
  }
}

/** 'default' | 'outcome' (code op NNN) | 'vars' (terms joined by and) | 'expression'. */
export function conditionKind(text) {
  const t = text.trim();
  if (t === '') return 'default';
  if (OUTCOME.test(t)) return 'outcome';
  return conditionToVars(t) ? 'vars' : 'expression';
}

/** `code == 401` from a comparison and a status. */
export function outcomeCondition(op, status) {
  return `code ${op} ${status}`;
}

function literal(v) {
  if (typeof v === 'number') return String(v);
  if (v === null) return 'nil';
  if (typeof v === 'boolean') return String(v);
  return `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * APISIX `vars` ([[name, op, value], ...], all must hold) as a condition. Throws on an operator
 * the dataplane's conditions do not have (APISIX's `in`, `has`, `ipmatch`, `~*`, `!`).
 */
export function varsToCondition(vars) {
  if (!Array.isArray(vars) || vars.length === 0) throw new Error('vars: expected a list of [name, operator, value]');
  return vars
    .map((term, i) => {
      if (!Array.isArray(term) || term.length !== 3) throw new Error(`vars[${i}]: expected [name, operator, value]`);
      const [name, op, value] = term;
      if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) throw new Error(`vars[${i}]: "${name}" (expected: a variable name)`);
      if (!OPERATORS.includes(op)) throw new Error(`vars[${i}]: "${op}" (expected: one of ${OPERATORS.join(' ')})`);
      return `${name} ${op} ${literal(value)}`;
    })
    .join(' and ');
}

/** The `vars` form of a condition made only of `name op value` joined by `and`, else null. */
export function conditionToVars(text) {
  let e;
  try {
    e = parseCondition(text);
  } catch {
    return null;
  }
  const terms = e.and ? e.and : [e];
  if (!terms.every((t) => t.compare)) return null;
  return terms.map((t) => t.compare);
}

export function isNumber(s) {
  return NUMBER.test(s);
}
