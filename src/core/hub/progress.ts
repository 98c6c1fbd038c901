/**
 * The state of a download as the user sees it (what it is doing, MB done of total, MB/s, time
 * left), a pure function of the pull's events. The editor's progress notification and the CLI's
 * progress bar both render it, so both say the same thing.
 */
import type { PullEvent } from './pull';
import { formatBytes } from './units';

export interface DownloadProgress {
  readonly phase: 'resolving' | 'waiting' | 'downloading' | 'done';
  readonly totalBytes: number;
  readonly doneBytes: number;
  /** Bytes that were on disk before this pull (resumed or reused): not counted in the speed. */
  readonly startBytes: number;
  readonly file?: string;
  /** Bytes per second over the last few seconds; undefined until there are enough samples. */
  readonly bytesPerSecond?: number;
  readonly etaSeconds?: number;
  /** The last retry's reason, until bytes flow again. */
  readonly retrying?: string;
  /** What holds the lock while this pull waits for it. */
  readonly waitingFor?: string;
  readonly samples: readonly { readonly at: number; readonly bytes: number }[];
}

const WINDOW_MS = 5000;

export const initialProgress: DownloadProgress = { phase: 'resolving', totalBytes: 0, doneBytes: 0, startBytes: 0, samples: [] };

export function reduceProgress(state: DownloadProgress, event: PullEvent): DownloadProgress {
  switch (event.type) {
    case 'resolving':
      return { ...initialProgress };
    case 'waiting':
      return { ...state, phase: 'waiting', waitingFor: event.holder?.what ?? 'another download of this model' };
    case 'plan':
      return { ...state, phase: 'downloading', waitingFor: undefined, totalBytes: event.plan.totalBytes, doneBytes: event.plan.presentBytes, startBytes: event.plan.presentBytes, samples: [] };
    case 'progress': {
      const samples = [...state.samples, { at: event.at, bytes: event.doneBytes }].filter((sample) => sample.at >= event.at - WINDOW_MS);
      const first = samples[0];
      const elapsed = (event.at - first.at) / 1000;
      const bytesPerSecond = samples.length >= 2 && elapsed >= 0.25 ? (event.doneBytes - first.bytes) / elapsed : state.bytesPerSecond;
      const remaining = Math.max(0, event.totalBytes - event.doneBytes);
      return {
        ...state,
        phase: 'downloading',
        totalBytes: event.totalBytes,
        doneBytes: event.doneBytes,
        file: event.file,
        samples,
        bytesPerSecond,
        etaSeconds: bytesPerSecond && bytesPerSecond > 0 ? remaining / bytesPerSecond : undefined,
        retrying: undefined,
      };
    }
    case 'retry':
      return { ...state, retrying: event.reason };
    case 'notice':
      return state;
    case 'done':
      return { ...state, phase: 'done', doneBytes: Math.max(state.doneBytes, event.result.totalBytes), etaSeconds: 0, retrying: undefined };
  }
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/** One line: "312.0 MB of 862.0 MB · 24.1 MB/s · 23 s left", or what the pull waits for. */
export function describeProgress(state: DownloadProgress): string {
  if (state.phase === 'resolving') return 'Asking the Hub for the file list…';
  if (state.phase === 'waiting') return `Waiting for ${state.waitingFor} to finish…`;
  const parts = [`${formatBytes(state.doneBytes)} of ${formatBytes(state.totalBytes)}`];
  if (state.phase === 'done') return `${formatBytes(state.totalBytes)} · done`;
  if (state.retrying) parts.push(`retrying: ${state.retrying.split(/[.:]/)[0]}`);
  else {
    if (state.bytesPerSecond !== undefined) parts.push(`${formatBytes(state.bytesPerSecond)}/s`);
    if (state.etaSeconds !== undefined && state.bytesPerSecond) parts.push(`${formatDuration(state.etaSeconds)} left`);
  }
  return parts.join(' · ');
}

/** Fraction done, 0..1. */
export function fractionDone(state: DownloadProgress): number {
  return state.totalBytes > 0 ? Math.min(1, state.doneBytes / state.totalBytes) : state.phase === 'done' ? 1 : 0;
}
