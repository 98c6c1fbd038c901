/**
 * What a server's address says: whether it is on this machine (`isLoopbackHost`: no proxy, no API
 * key warning), its base URL checked and normalized (`normalizeBaseUrl`, with a message that says
 * what a base URL looks like), and the short `host:port` name every message uses (`serverName`).
 */
import { ServerError } from './serverError';

/** True for 127.0.0.0/8, ::1 and localhost: servers on this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host) || host === '0:0:0:0:0:0:0:1';
}

/**
 * Checks a base URL and returns it normalized (no trailing slash). A URL without `/v1` is kept as
 * typed: some gateways serve the API elsewhere; a 404 then says where it is usually.
 */
export function normalizeBaseUrl(raw: string): string {
  const trimmed = raw.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new ServerError('bad-request', `"${trimmed}" is not a URL. Give the server's base URL, e.g. http://127.0.0.1:8000/v1 (vLLM) or http://127.0.0.1:11434/v1 (Ollama).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ServerError('bad-request', `"${trimmed}" is not an http(s) URL. Give the server's base URL, e.g. http://127.0.0.1:8000/v1.`);
  if (url.search || url.hash) throw new ServerError('bad-request', `"${trimmed}" has a query or fragment; give only the base URL, e.g. http://127.0.0.1:8000/v1.`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** A short name for messages: `host:port`. */
export function serverName(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return baseUrl;
  }
}
