/**
 * Everything heavy the extension host runs (dockerode, undici, the compose mapping, the query catalog, the pipeline
 * doctor), bundled apart as `dist/deferred.js` and loaded on first use (`loadDeferred`), so activation stays light.
 */
export * as stack from './stack';
export * as telemetry from './telemetry';
export * as history from './history';
export { runPipelineDoctor } from './doctor/pipelineDoctor';
export { doctorLogLines, renderDoctorReport } from './doctor/doctorReport';
