import { benchEndToEnd } from './endToEndRow.ts';
console.log(await benchEndToEnd({ seconds: 1, rounds: 1, connections: 1 }, console.log));
