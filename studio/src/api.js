// The Admin API client: every call sends the key typed at the login screen (sessionStorage, so it
// ends with the tab). Errors carry the server's error_msg.

const KEY = 'archway.studio.key';

export const session = {
  key: () => sessionStorage.getItem(KEY),
  set: (key) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export async function call(method, path, body, key = session.key()) {
  const headers = { 'X-API-KEY': key || '' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(`/apisix/admin${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, `the Admin API did not answer: ${e.message}`);
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  if (!res.ok) {
    const msg = (json && json.error_msg) || (typeof json === 'string' && json) || res.statusText;
    throw new ApiError(res.status, `${res.status}: ${msg}`, json);
  }
  return json;
}

/**
 * Whether a failed call says the server has no such endpoint (an older server): 405, or a 404
 * that is not the server's "<resource> ... not found" for a missing item.
 */
export const absent = (e) => e.status === 405 || (e.status === 404 && !/ not found$/.test(e.body?.error_msg ?? ''));

/** The server's own words for a failed call. */
export const reason = (e) => e.body?.error_msg ?? e.message;

const list = (json) => (json && Array.isArray(json.list) ? json.list.map((i) => i.value ?? i) : []);

export const admin = {
  check: (key) => call('GET', '/plugins/list', undefined, key),
  plugins: () => call('GET', '/plugins?all=true'),
  schema: (name) => call('GET', `/schema/plugins/${encodeURIComponent(name)}`),
  validatePlugin: (name, conf) => call('POST', '/schema/validate/plugin_configs', { plugins: { [name]: conf } }),
  flows: async () => list(await call('GET', '/plugin_flows')),
  flow: async (id) => (await call('GET', `/plugin_flows/${encodeURIComponent(id)}`)).value,
  saveFlow: (id, value) => call('PUT', `/plugin_flows/${encodeURIComponent(id)}`, value),
  deleteFlow: (id) => call('DELETE', `/plugin_flows/${encodeURIComponent(id)}`),
  routes: async () => list(await call('GET', '/routes')),
  upstreams: async () => list(await call('GET', '/upstreams')),
  consumers: async () => list(await call('GET', '/consumers')),
  // Node states of the upstreams with health checks (the control API's /v1/healthcheck body);
  // an older server without it gives none.
  health: () => call('GET', '/healthcheck').catch(() => []),
  attach: (routeId, flowId) => call('PATCH', `/routes/${encodeURIComponent(routeId)}`, { plugin_flow_id: flowId }),
  // The flow as drawn (saved or not): POST /plugin_flows/dry-run with the flow in the body.
  dryRun: (flow, sample) => call('POST', '/plugin_flows/dry-run', { flow, ...sample }),
  stats: (id, window = 60) => call('GET', `/plugin_flows/${encodeURIComponent(id)}/stats?window=${window}`),
};

/** Plugins by category ("other" when the server gives none), each list sorted by name. */
export function groupPlugins(all) {
  const groups = new Map();
  for (const [name, info] of Object.entries(all || {})) {
    const category = (info && typeof info.category === 'string' && info.category) || 'other';
    if (!groups.has(category)) groups.set(category, []);
    groups.get(category).push({ name, ...info });
  }
  for (const l of groups.values()) l.sort((a, b) => a.name.localeCompare(b.name));
  return [...groups.entries()].sort(([a], [b]) => (a === 'other') - (b === 'other') || a.localeCompare(b));
}
