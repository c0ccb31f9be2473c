export { atomProblems, schematronProblems } from './atomValidation.ts';
export { startTestFeedServer, type ServedRequest, type TestFeedServer } from './feedServer.ts';
export { tempDir } from './tempDir.ts';
export { isCi, requirePeer, type Peer } from './peers.ts';
export { call, callChunked, expectProblem, takePort, type PortForApp, type Reply } from './http.ts';
export { describeFeedContract, exampleEntryFor, examplesOf } from './contractExamples.ts';
export { parsePrometheusText, scrapeMetrics, type ParsedMetrics, type Sample } from './prometheusText.ts';
export { describeAccessControl, type AccessScenario, type Probe } from './accessScenario.ts';
export { deciderSpecification, projectionSpecification, type DeciderThen, type ProjectionThen, type RefusalOf } from './deciderSpecification.ts';
