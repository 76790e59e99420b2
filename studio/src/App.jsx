export function App() {
  return <main><h1>PluginFlow Studio</h1></main>;
}
