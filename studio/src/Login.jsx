import { useState } from 'react';
import { admin, session } from './api.js';

export function Login({ onLogin }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  return (
    <main className="login">
      <form
        aria-label="Log in"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            await admin.check(key);
            session.set(key);
            onLogin();
          } catch (err) {
            setError(err.message);
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1>PluginFlow Studio</h1>
        <label htmlFor="api-key">Admin API key</label>
        <input id="api-key" name="api-key" type="password" autoComplete="current-password" value={key}
          onChange={(e) => setKey(e.target.value)} autoFocus />
        <p className="help">Sent as X-API-KEY with every call; kept for this tab only.</p>
        <button type="submit" disabled={busy}>Log in</button>
        {error && <div className="field-error" role="alert">{error}</div>}
      </form>
    </main>
  );
}
