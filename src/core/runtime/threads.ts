/**
 * The default intraOpNumThreads: physical cores, at most 4. Hyper-threads do not speed up a
 * memory-bound forward pass, and more than 4 threads steal the editor's CPU for little gain.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export const MAX_DEFAULT_THREADS = 4;

/** Physical cores from /proc/cpuinfo on Linux (unique physical id + core id pairs). */
function linuxPhysicalCores(): number | undefined {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const cores = new Set<string>();
    let physical = '0';
    for (const line of info.split('\n')) {
      const [key, value] = line.split(':').map((part) => part?.trim());
      if (key === 'physical id') physical = value;
      else if (key === 'core id') cores.add(`${physical}:${value}`);
    }
    return cores.size > 0 ? cores.size : undefined;
  } catch {
    return undefined;
  }
}

export function physicalCores(): number {
  const logical = availableParallelism();
  const linux = process.platform === 'linux' ? linuxPhysicalCores() : undefined;
  // Elsewhere assume 2-way SMT on x64 and none on arm64 (Apple silicon has no SMT).
  const physical = linux ?? (process.arch === 'x64' ? Math.max(1, Math.floor(logical / 2)) : logical);
  // A container may be limited below the host's core count.
  return Math.max(1, Math.min(physical, logical));
}

/** `requested` > 0 is used as is; 0 or undefined picks the default. */
export function resolveThreads(requested?: number): number {
  if (requested !== undefined && requested > 0) return Math.floor(requested);
  return Math.min(MAX_DEFAULT_THREADS, physicalCores());
}
