/**
 * The model process's scheduling priority, applied as this module loads: before ONNX Runtime
 * creates its thread pools, so they inherit it (main.ts imports it first).
 *
 * On Linux a nice value belongs to each thread, and Node's own threads (V8's platform workers)
 * exist before any JavaScript runs: every thread in /proc/self/task is lowered, and the ones
 * created later (libuv's pool, ONNX Runtime's intra-op pool) inherit it from their creator.
 * Elsewhere the call sets the whole process's priority (a priority class on Windows).
 */
import { readdirSync } from 'node:fs';
import { constants, getPriority, setPriority } from 'node:os';
import { PRIORITY_ENV, type ModelProcessPriority } from '../core/modelProcess/protocol';

const NICE: Record<ModelProcessPriority, number> = {
  normal: constants.priority.PRIORITY_NORMAL,
  'below-normal': constants.priority.PRIORITY_BELOW_NORMAL,
};

/** Never raised: a process started at a lower priority (nice 15) keeps it. */
function lowered(current: number, priority: ModelProcessPriority): number {
  return Math.max(current, NICE[priority]);
}

export interface PriorityOutcome {
  readonly priority: ModelProcessPriority;
  /** Why it could not be applied (the process then runs at normal priority). */
  readonly problem?: string;
}

export function applyPriority(requested: string | undefined): PriorityOutcome {
  const priority: ModelProcessPriority = requested === 'below-normal' ? 'below-normal' : 'normal';
  if (priority === 'normal') return { priority };
  try {
    if (process.platform === 'linux') {
      for (const thread of readdirSync('/proc/self/task')) {
        try {
          setPriority(Number(thread), lowered(getPriority(Number(thread)), priority));
        } catch (error) {
          // A thread that ended meanwhile: nothing to lower.
          if ((error as { info?: { code?: string } }).info?.code !== 'ESRCH') throw error;
        }
      }
    } else {
      setPriority(lowered(getPriority(), priority));
    }
    return { priority };
  } catch (error) {
    return { priority: 'normal', problem: error instanceof Error ? error.message : String(error) };
  }
}

export const priorityOutcome = applyPriority(process.env[PRIORITY_ENV]);
