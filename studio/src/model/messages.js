// Where a server message points: the node (`conf.throttle.conf: ...`, `node "throttle"`) and the
// field (`rate: -1 (expected: > 0)`), so the app can show it there.

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The node id of `graph` that `message` is about, or null. */
export function nodeOf(message, graph) {
  if (!message) return null;
  for (const n of [...graph.nodes].sort((a, b) => b.id.length - a.id.length)) {
    const id = escape(n.id);
    if (new RegExp(`(conf\\.${id}\\b|["']${id}["']|\\b${id}:)`).test(message)) return n.id;
  }
  return null;
}

/** Which of `names` (a form's fields) `message` is about, the longest first, or null. */
export function fieldOf(message, names) {
  if (!message) return null;
  for (const name of [...names].sort((a, b) => b.length - a.length)) {
    if (new RegExp(`(^|[\\s.'"\\[/])${escape(name)}(['"\\]]?)(:|\\s|$)`).test(message)) return name;
  }
  return null;
}
