import { useEffect, useState } from 'react';
import { admin } from './api.js';

function nodesOf(upstream) {
  const n = upstream?.nodes;
  if (!n) return upstream?.service_name ? `${upstream.discovery_type}: ${upstream.service_name}` : '';
  return Array.isArray(n) ? n.map((x) => `${x.host}:${x.port}`).join(', ') : Object.keys(n).join(', ');
}

/** Health-checked upstreams by their key (`upstreams/<id>`, `routes/<id>`): node → status. */
function healthByKey(list) {
  const out = new Map();
  for (const up of Array.isArray(list) ? list : []) {
    const key = String(up.name || '').replace(/^\/?apisix\//, '').replace(/^\//, '');
    out.set(key, (up.nodes || []).map((n) => ({ node: `${n.ip}:${n.port}`, status: n.status })));
  }
  return out;
}

function Health({ nodes }) {
  if (!nodes) return <span>no health checks</span>;
  return (
    <ul className="health">
      {nodes.map((n) => (
        <li key={n.node} className={n.status === 'healthy' ? 'healthy' : 'unhealthy'}>
          {n.node}: {n.status}
        </li>
      ))}
    </ul>
  );
}

/** Read-only: routes, upstreams with their nodes' health, consumers. */
export function Overview() {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    Promise.all([admin.routes(), admin.upstreams(), admin.consumers(), admin.health()]).then(
      ([routes, upstreams, consumers, health]) =>
        setData({ routes, upstreams, consumers, health: healthByKey(health) }),
      (e) => setError(e.message),
    );
  }, []);
  if (error) return <div className="message error" role="alert">{error}</div>;
  if (!data) return <p>Loading…</p>;
  return (
    <div className="overview">
      <section aria-label="Routes">
        <h2>Routes ({data.routes.length})</h2>
        <table>
          <thead><tr><th scope="col">id</th><th scope="col">uri</th><th scope="col">methods</th><th scope="col">plugins</th><th scope="col">plugin flow</th><th scope="col">upstream</th></tr></thead>
          <tbody>
            {data.routes.map((r) => (
              <tr key={r.id}>
                <td>{r.id}</td>
                <td>{r.uri || (r.uris || []).join(' ')}</td>
                <td>{(r.methods || []).join(' ') || 'any'}</td>
                <td>{Object.keys(r.plugins || {}).join(', ')}</td>
                <td>{r.plugin_flow_id || ''}</td>
                <td>{r.upstream_id || nodesOf(r.upstream)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-label="Upstreams">
        <h2>Upstreams ({data.upstreams.length})</h2>
        <table>
          <thead><tr><th scope="col">id</th><th scope="col">type</th><th scope="col">nodes</th><th scope="col">health</th></tr></thead>
          <tbody>
            {data.upstreams.map((u) => (
              <tr key={u.id}>
                <td>{u.id}</td>
                <td>{u.type || 'roundrobin'}</td>
                <td>{nodesOf(u)}</td>
                <td><Health nodes={data.health.get(`upstreams/${u.id}`)} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-label="Consumers">
        <h2>Consumers ({data.consumers.length})</h2>
        <table>
          <thead><tr><th scope="col">username</th><th scope="col">plugins</th></tr></thead>
          <tbody>
            {data.consumers.map((c) => <tr key={c.username}><td>{c.username}</td><td>{Object.keys(c.plugins || {}).join(', ')}</td></tr>)}
          </tbody>
        </table>
      </section>
    </div>
  );
}
