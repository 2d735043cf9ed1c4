// Public API of the telemetry data layer. Plain Node: never import `vscode`.
export * from './http';
export * from './prometheus';
export * from './loki';
export * from './queries';
export * from './reader';
export * from './scheduler';
export * from './alerts';
export * from './thresholdPublisher';
export * from './collectorHeaders';
export * from './storage';
