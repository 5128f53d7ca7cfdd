// The contract between the drDrill workflow and its activities (types only).
import type { CheckResult, DrillReport, HttpCheck } from '../domain/drill.js';

export interface DrillActivities {
  /**
   * Checks a ready clone: its workloads are ready, its live objects are its revision with its
   * overrides, each copied database holds the rows its copy moved, and the HTTP checks answer
   * through the API server's service proxy. Every check runs; none throws for a failed check.
   */
  validateClone(input: { cloneId: string; copied: { database: string; rows: number }[]; http: HttpCheck[] }): Promise<CheckResult[]>;
  /** Stores the report (and its Markdown); a retry replaces it. */
  saveDrillReport(input: { report: DrillReport }): Promise<void>;
}
