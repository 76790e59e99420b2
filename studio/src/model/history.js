// Undo/redo over the store's graph: pure functions on {past, present, future}.

export const HISTORY_LIMIT = 100;

export function createHistory(present) {
  return { past: [], present, future: [] };
}

/** `next` becomes the present; the old one can be undone. Same object: nothing recorded. */
export function record(history, next) {
  if (next === history.present) return history;
  const past = [...history.past, history.present];
  return { past: past.slice(Math.max(0, past.length - HISTORY_LIMIT)), present: next, future: [] };
}

/** The present as one undo step without changing it (before a drag); the past stays bounded. */
export function checkpoint(history) {
  const past = [...history.past, history.present];
  return { past: past.slice(Math.max(0, past.length - HISTORY_LIMIT)), present: history.present, future: [] };
}

/** Replaces the present without a step (e.g. while a node is dragged). */
export function replace(history, next) {
  return { ...history, present: next };
}

export function undo(history) {
  if (history.past.length === 0) return history;
  return {
    past: history.past.slice(0, -1),
    present: history.past[history.past.length - 1],
    future: [history.present, ...history.future],
  };
}

export function redo(history) {
  if (history.future.length === 0) return history;
  return {
    past: [...history.past, history.present],
    present: history.future[0],
    future: history.future.slice(1),
  };
}

export const canUndo = (h) => h.past.length > 0;
export const canRedo = (h) => h.future.length > 0;
