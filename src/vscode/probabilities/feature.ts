/**
 * The probability views' code, bundled apart (dist/probabilities.js) and loaded on first use by
 * register.ts: the "What Comes Next?" panel and the surprise lens.
 */
export { NextTokenPanel } from './nextTokenPanel';
export { SurpriseLens } from './surpriseLens';
export { ConfidenceColouring } from './confidenceColouring';
