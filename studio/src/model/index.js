export * from './conditions.js';
export * from './graph.js';
export * from './formats.js';
export * from './layout.js';
export * from './history.js';
export * from './messages.js';
