/** One line of the benchmark table: a subject measured side by side with its baseline. */
export interface BenchRow { name: string; subject: number; baseline: number; unit: string; ratio: number; target: string; pass: boolean; note?: string }
