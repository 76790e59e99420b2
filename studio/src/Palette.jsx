import { useMemo, useState } from 'react';
import { groupPlugins } from './api.js';

export const DRAG_TYPE = 'application/x-archway-plugin';

export function Palette({ plugins, onAdd }) {
  const [query, setQuery] = useState('');
  const groups = useMemo(() => {
    const q = query.trim().toLowerCase();
    return groupPlugins(plugins)
      .map(([category, list]) => [category, list.filter((p) => p.name.includes(q) || category.includes(q))])
      .filter(([, list]) => list.length > 0);
  }, [plugins, query]);
  return (
    <nav className="palette" aria-label="Plugins">
      <label htmlFor="palette-search">Search plugins</label>
      <input id="palette-search" type="search" value={query} placeholder="name or category" onChange={(e) => setQuery(e.target.value)} />
      <p className="help">Drag onto the canvas, or focus and press Enter to add.</p>
      {groups.map(([category, list]) => (
        <section key={category} aria-label={`${category} plugins`}>
          <h3>{category}</h3>
          <ul>
            {list.map((p) => (
              <li key={p.name}>
                <button
                  type="button"
                  className="palette-item"
                  data-plugin={p.name}
                  draggable
                  aria-label={`add plugin ${p.name}`}
                  title={`priority ${p.priority ?? ''}${p.phases?.length ? ` · ${p.phases.join(', ')}` : ''}`}
                  onDragStart={(e) => {
                    e.dataTransfer.setData(DRAG_TYPE, p.name);
                    e.dataTransfer.setData('text/plain', p.name);
                    e.dataTransfer.effectAllowed = 'copy';
                  }}
                  onClick={() => onAdd(p.name)}
                >
                  {p.name}
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </nav>
  );
}
