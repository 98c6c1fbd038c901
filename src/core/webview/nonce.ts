import { randomBytes } from 'node:crypto';

/** A fresh nonce for one page's Content-Security-Policy (each page load gets its own). */
export function newNonce(): string {
  return randomBytes(16).toString('base64');
}
