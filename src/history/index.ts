// Public API of the history import. Plain Node: never import `vscode`.
export * from './transcripts';
export * from './importPlan';
export * from './pricing';
export * from './historyImport';
