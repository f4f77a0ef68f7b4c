// Flap detection (SPEC §3), Nagios-style, pure. A partition keeps the last 21 colour states
// the master recorded for it (at every report, at every colour change the sweep or a bang
// records, and — while flapping — at least every FLAP_SAMPLE_INTERVAL_MS from the sweep).
// The percentage of state change over the 20 transitions of that window, recent changes
// weighted more, starts flapping above 50 % and stops it below 25 %.
import type { Colour } from '../../protocol/index.ts';

/** States in the window (so 20 transitions), as Nagios. */
export const FLAP_WINDOW = 21;
export const FLAP_TRANSITIONS = FLAP_WINDOW - 1;
/** Weight of the oldest transition of the window … */
export const FLAP_WEIGHT_OLDEST = 0.8;
/** … rising linearly to this for the newest. The 20 weights average to 1. */
export const FLAP_WEIGHT_NEWEST = 1.2;
/** Flapping starts when the percentage is above this … */
export const FLAP_START_PERCENT = 50;
/** … and stops when it is below this (hysteresis). */
export const FLAP_STOP_PERCENT = 25;
/**
 * While a partition flaps, its colour is sampled at least this often (by the sweep when no
 * report came), so a partition that went quiet and stable stops flapping (after 15 samples
 * at most, ≈ 15 min) instead of waiting for reports that only come on state changes.
 */
export const FLAP_SAMPLE_INTERVAL_MS = 60_000;

/** A compact history: one character per recorded state, oldest first, at most 21. */
export type FlapHistory = string;

const CODE: Record<Colour, string> = { green: 'g', orange: 'o', red: 'r' };

/** Appends the newest state and keeps the last FLAP_WINDOW. */
export function recordState(history: FlapHistory, colour: Colour): FlapHistory {
  return (sanitize(history) + CODE[colour]).slice(-FLAP_WINDOW);
}

/** Whatever is stored is reduced to a valid history (unknown characters dropped). */
function sanitize(history: string | null | undefined): FlapHistory {
  return (history ?? '').replace(/[^gor]/g, '').slice(-FLAP_WINDOW);
}

/** The weight of transition x (1 = oldest … 20 = newest). */
export function transitionWeight(x: number): number {
  return FLAP_WEIGHT_OLDEST + ((x - 1) * (FLAP_WEIGHT_NEWEST - FLAP_WEIGHT_OLDEST)) / (FLAP_TRANSITIONS - 1);
}

/**
 * Weighted percentage of state change, in [0, 100]. Missing older states (a history shorter
 * than 21) count as unchanged: the window is padded on the old side with the oldest state.
 */
export function percentStateChange(history: FlapHistory): number {
  const h = sanitize(history);
  if (h.length < 2) return 0;
  const window = h.padStart(FLAP_WINDOW, h[0]);
  let changes = 0;
  for (let x = 1; x <= FLAP_TRANSITIONS; x++) {
    if (window[x] !== window[x - 1]) changes += transitionWeight(x);
  }
  // Rounded to 1/100 so that stored and recomputed values compare equal.
  return Math.min(100, Math.max(0, Math.round((changes * 100 * 100) / FLAP_TRANSITIONS) / 100));
}

export interface FlapState {
  history: FlapHistory;
  flapping: boolean;
}

export type FlapTransition = 'started' | 'stopped' | null;

/** Start above FLAP_START_PERCENT, stop below FLAP_STOP_PERCENT, else keep the state. */
export function nextFlapping(state: FlapState): { flapping: boolean; transition: FlapTransition; percent: number } {
  const percent = percentStateChange(state.history);
  if (!state.flapping && percent > FLAP_START_PERCENT) return { flapping: true, transition: 'started', percent };
  if (state.flapping && percent < FLAP_STOP_PERCENT) return { flapping: false, transition: 'stopped', percent };
  return { flapping: state.flapping, transition: null, percent };
}

/** Records one observed state and evaluates the thresholds. */
export function observeState(
  state: FlapState,
  colour: Colour,
): { state: FlapState; transition: FlapTransition; percent: number } {
  const history = recordState(state.history, colour);
  const next = nextFlapping({ history, flapping: state.flapping });
  return { state: { history, flapping: next.flapping }, transition: next.transition, percent: next.percent };
}

/** The threshold an event reports: the one that was crossed. */
export function flapThreshold(transition: 'started' | 'stopped'): number {
  return transition === 'started' ? FLAP_START_PERCENT : FLAP_STOP_PERCENT;
}

/**
 * When the sweep must sample a flapping partition next (null: not flapping, no sampling).
 * `lastSampleAt` is the time of the last recorded state (report or sweep).
 */
export function nextFlapSampleAt(flapping: boolean, lastSampleAt: Date | null, now: Date): Date | null {
  if (!flapping) return null;
  if (!lastSampleAt) return now;
  return new Date(lastSampleAt.getTime() + FLAP_SAMPLE_INTERVAL_MS);
}
