import { useEffect, useState } from 'react';
import '@xyflow/react/dist/style.css';
import './styles.css';
import { admin, session } from './api.js';
import { Login } from './Login.jsx';
import { Editor } from './Editor.jsx';
import { Overview } from './Overview.jsx';
import { useStudioStore } from './store.js';

export function App() {
  const [loggedIn, setLoggedIn] = useState(() => session.key() !== null);
  const [page, setPage] = useState('flow');
  const [plugins, setPlugins] = useState(null);
  const [error, setError] = useState(null);
  const [state, dispatch] = useStudioStore();

  useEffect(() => {
    if (!loggedIn) return;
    admin.plugins().then(setPlugins, (e) => {
      if (e.status === 401 || e.status === 403) {
        session.clear();
        setLoggedIn(false);
      }
      setError(e.message);
    });
  }, [loggedIn]);

  if (!loggedIn) return <Login onLogin={() => { setError(null); setLoggedIn(true); }} />;
  return (
    <div className="app">
      <header>
        <h1>PluginFlow Studio</h1>
        <nav aria-label="Pages">
          <button type="button" aria-current={page === 'flow' ? 'page' : undefined} onClick={() => setPage('flow')}>Flow editor</button>
          <button type="button" aria-current={page === 'overview' ? 'page' : undefined} onClick={() => setPage('overview')}>Overview</button>
        </nav>
        <button type="button" className="logout" onClick={() => { session.clear(); setLoggedIn(false); }}>Log out</button>
      </header>
      {error && <div className="message error" role="alert">{error}</div>}
      <main>
        {page === 'flow' ? <Editor state={state} dispatch={dispatch} plugins={plugins} /> : <Overview />}
      </main>
    </div>
  );
}
