export { atomProblems, schematronProblems } from './atomValidation.ts';
export { startTestFeedServer, type ServedRequest, type TestFeedServer } from './feedServer.ts';
export { tempDir } from './tempDir.ts';
